#!/usr/bin/env bash
# Issue 4 benches (c) and (d):
#  (d) engine idle RSS: VmRSS/VmHWM of dashboard-engine after start-up, the image load and IDLE s of rest;
#  (c) stats sampler cost: N idle containers (`sleep`), engine CPU time over WINDOW s, as % of one core;
#  (d) per-container shim RSS: median and max VmRSS and VmHWM of the N resident supervisors.
# Usage (root): DASHBOARD_BIN=<prefix>/bin tests/bench/engine-idle.sh [N=200] [WINDOW=60] [IDLE=10]
count="${1:-200}"
window="${2:-60}"
idle="${3:-10}"
source "$(dirname "$0")/engine-lib.sh"
start_engine
load_busybox
hz=$(getconf CLK_TCK)

sleep "$idle"
read -r e_rss e_hwm <<<"$(rss_kb "$engine_pid")"
e0=$(cpu_ticks "$engine_pid")
sleep "$window"
e1=$(cpu_ticks "$engine_pid")
idle_cpu=$(echo "100 * ($e1 - $e0) / $hz / $window" | bc -l)
printf '(d) engine idle: VmRSS %d kB, VmHWM %d kB (target RSS <= 80 MB); CPU with no containers %.2f %% of one core\n' \
  "$e_rss" "$e_hwm" "$idle_cpu"

echo "starting $count idle containers (network none) ..."
t0=$(date +%s)
for ((i = 0; i < count; i++)); do
  id=$(api POST /containers/create '{"Image":"bb","Cmd":["sleep","100000"],"HostConfig":{"NetworkMode":"none"}}' | jq -r .Id)
  api POST "/containers/$id/start" >/dev/null
done
running=$(api GET /containers/json | jq length)
echo "started $running in $(($(date +%s) - t0)) s"
# Let start-up work (events, first samples, GC) settle before the window.
sleep 10
e0=$(cpu_ticks "$engine_pid")
sleep "$window"
e1=$(cpu_ticks "$engine_pid")
busy_cpu=$(echo "100 * ($e1 - $e0) / $hz / $window" | bc -l)
read -r b_rss b_hwm <<<"$(rss_kb "$engine_pid")"
printf '(c) engine CPU with %d idle containers over %d s: %.2f %% of one core (no containers: %.2f %%; target < 5 %%); engine VmRSS %d kB\n' \
  "$running" "$window" "$busy_cpu" "$idle_cpu" "$b_rss"

rss="" hwm="" shared=""
for p in $(shim_pids); do
  read -r r h <<<"$(rss_kb "$p")"
  rss+="$r "; hwm+="$h "
  shared+="$(awk '/^RssFile/ {f=$2} /^RssShmem/ {s=$2} END {print f + s}' "/proc/$p/status") "
done
n=$(wc -w <<<"$rss")
max() { tr ' ' '\n' | grep -v '^$' | sort -n | tail -1; }
exe=$(readlink "/proc/$(shim_pids | head -1)/exe" 2>/dev/null || echo "?")
printf '(d) %d resident shims (%s): VmRSS median %d kB, max %d kB; VmHWM median %d kB, max %d kB; of which file-backed (shared) median %d kB (target <= 4096 kB)\n' \
  "$n" "$exe" "$(median <<<"$rss")" "$(max <<<"$rss")" "$(median <<<"$hwm")" "$(max <<<"$hwm")" "$(median <<<"$shared")"
echo "removing the containers ..."
