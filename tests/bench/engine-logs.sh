#!/usr/bin/env bash
# Issue 4 bench (b): log ingest. A container writes lines as fast as it can for SECONDS seconds
# (busybox `yes` of a LEN-byte line, stopped by the container's shell); prints lines/s persisted in the CRI log (all rotated files),
# the engine's and the shim's CPU over the run, and the shim's RSS while it logs.
# Usage (root): DASHBOARD_BIN=<prefix>/bin tests/bench/engine-logs.sh [SECONDS=10] [LEN=64] [ROUNDS=3]
seconds="${1:-10}"
len="${2:-64}"
rounds="${3:-3}"
source "$(dirname "$0")/engine-lib.sh"
# Rotation at 1 GiB x 5 so no record of the run is rotated away before it is counted.
start_engine --log-max-size 1073741824 --log-max-files 5
load_busybox
line="$(head -c "$len" /dev/zero | tr '\0' x)"
hz=$(getconf CLK_TCK)
rates="" engine_cpu="" shim_cpu="" shim_rss=""
printf '%-6s %14s %12s %14s %12s %16s\n' round lines lines/s "engine CPU %" "shim CPU %" "shim RSS/HWM kB"
for ((r = 1; r <= rounds; r++)); do
  id=$(api POST /containers/create "{\"Image\":\"bb\",\"Cmd\":[\"sh\",\"-c\",\"yes $line & sleep $seconds; kill \$!\"],\"HostConfig\":{\"NetworkMode\":\"none\"}}" | jq -r .Id)
  e0=$(cpu_ticks "$engine_pid")
  api POST "/containers/$id/start" >/dev/null
  t0=$(date +%s%N)
  shim=""
  for _ in $(seq 100); do shim=$(pgrep -f "^$bin/dashboard-shim shim .*$id" | head -1 || true); [[ -n $shim ]] && break; sleep 0.05; done
  [[ -n $shim ]] || shim=$(pgrep -f "shim .*$id" | head -1)
  sleep $((seconds / 2))
  s_rss=$(rss_kb "$shim" 2>/dev/null || echo "? ?")
  s0=$(cpu_ticks "$shim" 2>/dev/null || echo 0)
  sleep $((seconds - seconds / 2 - 1))
  s1=$(cpu_ticks "$shim" 2>/dev/null || echo "$s0")
  s_rss2=$(rss_kb "$shim" 2>/dev/null || echo "$s_rss")
  api POST "/containers/$id/wait" >/dev/null
  t1=$(date +%s%N)
  e1=$(cpu_ticks "$engine_pid")
  logpath=$(api GET "/containers/$id/json" | jq -r .LogPath)
  n=$(cat "$logpath"* | wc -l)
  rate=$(echo "$n * 1000000000 / ($t1 - $t0)" | bc)
  ecpu=$(echo "100 * ($e1 - $e0) / $hz / (($t1 - $t0) / 1000000000)" | bc -l)
  scpu=$(echo "100 * ($s1 - $s0) / $hz / ($seconds - $seconds / 2 - 1)" | bc -l)
  printf '%-6s %14s %12s %14.1f %12.1f %16s\n' "$r" "$n" "$rate" "$ecpu" "$scpu" "${s_rss2/ //}"
  rates+="$rate "; engine_cpu+="$ecpu "; shim_cpu+="$scpu "
  api DELETE "/containers/$id?force=1" >/dev/null
done
printf 'median lines/s persisted: %s (target >= 200000)   median engine CPU: %.1f %% of one core   median shim CPU: %.1f %%\n' \
  "$(median <<<"$rates")" "$(median <<<"$engine_cpu")" "$(median <<<"$shim_cpu")"
# The same writer into a plain pipe that nobody parses: what the container side can produce here.
raw=$(timeout 2 busybox yes "$line" | wc -l || true)
echo "reference: busybox yes into wc -l for 2 s: $((raw / 2)) lines/s"
