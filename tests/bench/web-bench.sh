#!/usr/bin/env bash
# Web UI benchmarks (issue 5 "Must show"), against a real dashboard-engine + dashboard-web from DASHBOARD_BIN
# (or --build-only --prefix DIR/bin) on temp dirs, driven by Playwright with Debian's Chromium (tests/bench/WebBench):
#   list     the containers page with COUNT (1,000) containers on our engine (created, not started):
#            time to the first rendered row and to an interactive circuit, then wheel-scroll to the end (target < 1.5 s)
#   latency  a container copies lines from a FIFO to stdout; the driver writes "L seq unix-ms" 10 times a second
#            for SECONDS; PAGES (10) browser pages on its Logs tab record when each line appears: p50/p95 (target p95 < 250 ms)
#   flood    a container writes ~50,000 lines/s for SECONDS (60); one page follows it; every 2 s an input round trip
#            (Pause/Resume click until the button re-renders) and the web process's RSS
# There is no peer to run side by side here: Portainer etc. are not installable offline; the targets are the issue's.
# Usage: DASHBOARD_BIN=/tmp/x/bin tests/bench/web-bench.sh [list|latency|flood|all] [COUNT=1000] [PAGES=10] [SECONDS=60]   (root)
set -euo pipefail
mode="${1:-all}"
count="${2:-1000}"
pages="${3:-10}"
seconds="${4:-60}"
here="$(cd "$(dirname "$0")" && pwd)"
bin="${DASHBOARD_BIN:?set DASHBOARD_BIN to a directory with dashboard-engine, dashboard-web and dashboard-runtime}"
dotnet build -c Release "$here/WebBench" -v q -nologo >/dev/null
bench="$here/WebBench/bin/Release/net10.0/WebBench"
work="$(mktemp -d /tmp/dash-web-bench.XXXXXX)"
cgroup="/dashboard-test/web-bench-$$"
pids=()
cleanup() {
  local rc=$?
  if [ "$rc" -ne 0 ] && [ -f "$work/web.log" ]; then
    echo "--- web.log (last 40 lines; the run failed with $rc)" >&2
    tail -n 40 "$work/web.log" >&2
  fi
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  for d in /sys/fs/cgroup/*"$cgroup" /sys/fs/cgroup"$cgroup"; do
    [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  # Containers the engine still had (the list bench leaves 1,000): their overlay root filesystems.
  # (grep finds nothing after a run without containers; under pipefail that must not end the clean-up here.)
  { grep -o " $work[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m"; done
  # The engine keeps its default bridge up (as docker0); it lists the bridges it made.
  for b in "$work"/engine-state/bridges/dbr-*; do [ -e "$b" ] && ip link delete "${b##*/}" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

sock="$work/engine.sock"
DOTNET_EnableDiagnostics=0 "$bin/dashboard-engine" --data-root "$work/engine-data" --socket "$sock" --state-root "$work/engine-state" \
  --runtime "$bin/dashboard-runtime" --cgroup-parent "$cgroup" --log-format text >"$work/engine.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 600); do [ -S "$sock" ] && curl -sf --unix-socket "$sock" http://e/_ping >/dev/null && break; sleep 0.1; done

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/web.key" -out "$work/web.crt" -days 1 -subj /CN=127.0.0.1 \
  -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1
head -c 32 /dev/urandom | base64 >"$work/secret"
url="https://127.0.0.1:$port"
DOTNET_EnableDiagnostics=0 ASPNETCORE_ENVIRONMENT=Production Dashboard__LoginAttemptsPerMinute=1000 \
  "$bin/dashboard-web" --urls "$url" --cert "$work/web.crt" --key "$work/web.key" --data-dir "$work/web-data" \
  --engine "unix://$sock" --bootstrap-secret-file "$work/secret" >"$work/web.log" 2>&1 &
web_pid=$!
pids+=($web_pid)
for _ in $(seq 1 600); do curl -skf "$url/healthz" >/dev/null && break; sleep 0.1; done

user=bench password=bench-password-123
"$bench" setup "$url" "$work/secret" "$user" "$password"
"$bench" image "$sock"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores, $(date -u +%FT%TZ)"
case "$mode" in
  list) "$bench" list "$url" "$user" "$password" "$sock" "$count" 3 ;;
  latency) "$bench" latency "$url" "$user" "$password" "$sock" "$pages" "$seconds" ;;
  flood) "$bench" flood "$url" "$user" "$password" "$sock" "$seconds" "$web_pid" ;;
  all)
    "$bench" latency "$url" "$user" "$password" "$sock" "$pages" 30
    "$bench" flood "$url" "$user" "$password" "$sock" "$seconds" "$web_pid"
    "$bench" list "$url" "$user" "$password" "$sock" "$count" 3
    ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
