# Shared by tests/bench/engine-*.sh (source it): a private dashboard-engine from DASHBOARD_BIN with its own
# data root, state root, socket and cgroup parent under /tmp, a busybox image "bb" loaded into it, and
# clean-up of all of it on exit. Needs root, busybox-static, curl, python3, jq.
set -euo pipefail
bin="${DASHBOARD_BIN:?set DASHBOARD_BIN to the bin directory of a --build-only prefix (dashboard-engine, dashboard-runtime, dashboard-shim)}"
[[ $(id -u) -eq 0 ]] || { echo "run as root" >&2; exit 1; }
for t in curl python3 jq busybox; do command -v "$t" >/dev/null || { echo "needs $t" >&2; exit 1; }; done
work="$(mktemp -d /tmp/engine-bench.XXXXXX)"
sock="$work/engine.sock"
cgparent="/dashboard-bench-$$"
engine_pid=""

bench_cleanup() {
  set +e
  if [[ -n $engine_pid ]] && kill -0 "$engine_pid" 2>/dev/null; then
    for id in $(api GET "/containers/json?all=1" | jq -r '.[].Id' 2>/dev/null); do
      api DELETE "/containers/$id?force=1" >/dev/null
    done
    kill "$engine_pid"; wait "$engine_pid" 2>/dev/null
  fi
  # Shims of containers the engine could not remove (none expected) die with their containers.
  for p in $(pgrep -f "dashboard-shim shim .*--exit-file $work/" 2>/dev/null); do kill -9 "$p"; done
  # A container whose shim is gone (an engine that died mid-run) would live on: kill what is left in our cgroups.
  for p in $(cat /sys/fs/cgroup/pids"$cgparent"/*/cgroup.procs 2>/dev/null); do kill -9 "$p"; done
  sleep 0.2
  for d in /sys/fs/cgroup/*"$cgparent" /sys/fs/cgroup/unified"$cgparent"; do
    [[ -d $d ]] || continue
    for c in "$d"/*/; do [[ -d $c ]] && rmdir "$c" 2>/dev/null; done
    rmdir "$d" 2>/dev/null
  done
  { grep -o " $work[^ ]*" /proc/mounts || true; } | sort -r | while read -r m; do umount -l "$m"; done
  # The engine keeps its default bridge up (as docker0); it lists the bridges it made.
  for b in "$work"/state/bridges/dbr-*; do [[ -e $b ]] && ip link delete "${b##*/}" 2>/dev/null; done
  chattr -i "$work/bin/dashboard-runtime" 2>/dev/null
  rm -rf "$work"
}
trap bench_cleanup EXIT

# The engine runs the runtime as installed: an immutable copy (chattr +i, as the install script leaves it),
# where init runs in the clone child instead of re-executing a sealed memfd copy; the shim sits beside it.
mkdir -p "$work/bin"
cp "$bin/dashboard-runtime" "$bin/dashboard-shim" "$work/bin/"
chattr +i "$work/bin/dashboard-runtime"

# api METHOD PATH [JSON]: one Docker Engine API call on the private socket; prints the body.
api() {
  local method="$1" path="$2" body="${3:-}"
  if [[ -n $body ]]; then
    curl -sS --unix-socket "$sock" -X "$method" -H 'Content-Type: application/json' -d "$body" "http://engine/v1.43$path"
  else
    curl -sS --unix-socket "$sock" -X "$method" "http://engine/v1.43$path"
  fi
}

# Starts the engine; extra flags (e.g. --log-max-size) are passed on.
start_engine() {
  DOTNET_EnableDiagnostics=0 "$bin/dashboard-engine" --data-root "$work/data" --state-root "$work/state" --socket "$sock" \
    --runtime "$work/bin/dashboard-runtime" --cgroup-parent "$cgparent" --socket-group root "$@" >"$work/engine.log" 2>&1 &
  engine_pid=$!
  for _ in $(seq 600); do
    [[ -S $sock ]] && curl -s --unix-socket "$sock" http://engine/_ping >/dev/null 2>&1 && return 0
    kill -0 "$engine_pid" 2>/dev/null || { cat "$work/engine.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "the engine did not answer within 60 s" >&2; exit 1
}

# A docker-archive image "bb:latest": one layer with busybox-static and its applet links.
load_busybox() {
  local img="$work/img" root="$work/img/rootfs"
  mkdir -p "$root/bin" "$root"/{etc,tmp,proc,sys,dev}
  cp "$(command -v busybox)" "$root/bin/busybox"
  for a in sh true sleep yes cat timeout seq echo dd head; do ln -s busybox "$root/bin/$a"; done
  tar -C "$root" --numeric-owner --owner=0 --group=0 -cf "$img/layer.tar" .
  local diff; diff="sha256:$(sha256sum "$img/layer.tar" | cut -d' ' -f1)"
  printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["%s"]},"history":[]}' "$diff" >"$img/config.json"
  local cfg; cfg="$(sha256sum "$img/config.json" | cut -d' ' -f1)"
  mkdir -p "$img/archive/$cfg"
  mv "$img/config.json" "$img/archive/$cfg.json"
  mv "$img/layer.tar" "$img/archive/$cfg/layer.tar"
  printf '[{"Config":"%s.json","RepoTags":["bb:latest"],"Layers":["%s/layer.tar"]}]' "$cfg" "$cfg" >"$img/archive/manifest.json"
  tar -C "$img/archive" -cf "$img/bb.tar" .
  curl -sS --unix-socket "$sock" -X POST -H 'Content-Type: application/x-tar' --data-binary @"$img/bb.tar" \
    "http://engine/v1.43/images/load" >/dev/null
  api GET /images/bb:latest/json | jq -e .Id >/dev/null || { echo "image load failed" >&2; exit 1; }
}

# CPU time (utime+stime, clock ticks) of a process.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# Resident set of a process: "VmRSS VmHWM" in kB.
rss_kb() { awk '/^VmRSS/ {r=$2} /^VmHWM/ {h=$2} END {print r, h}' "/proc/$1/status"; }

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# The resident supervisors (dashboard-shim after the runtime's hand-over) of this engine's containers.
shim_pids() { pgrep -f "shim .*--exit-file $work/" || true; }

echo "# $(date -u '+%F %T UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg), binaries $bin"
