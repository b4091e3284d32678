#!/usr/bin/env bash
# Times `run` of /bin/true in a busybox bundle for dashboard-runtime, runc and crun, interleaved,
# N runs each, and prints medians and ratios; then the peak RSS of a resident shim.
# Usage: tests/bench/runtime-run.sh [RUNS]   (root; DASHBOARD_BIN=dir of dashboard-runtime)
set -euo pipefail
runs="${1:-50}"
bin="${DASHBOARD_BIN:?set DASHBOARD_BIN to the directory holding dashboard-runtime}"
work="$(mktemp -d /tmp/dash-bench.XXXXXX)"
# As installed, the runtime binary is immutable (chattr +i), which lets init run in the clone child;
# "ours-reexec" is the same binary writable, where init re-executes a sealed memfd copy (runc's way).
mkdir -p "$work/bin"
cp "$bin/dashboard-runtime" "$work/bin/dashboard-runtime"
if [[ -x "$bin/dashboard-shim" ]]; then cp "$bin/dashboard-shim" "$work/bin/dashboard-shim"; fi
chattr +i "$work/bin/dashboard-runtime"
trap 'chattr -i "$work/bin/dashboard-runtime"; rm -rf "$work"' EXIT
ours="$work/bin/dashboard-runtime"
ours_reexec="$bin/dashboard-runtime"

mkdir -p "$work/bundle/rootfs/bin" "$work/bundle/rootfs"/{proc,sys,dev,etc,tmp}
cp "$(command -v busybox)" "$work/bundle/rootfs/bin/busybox"
for a in sh true sleep; do ln -s busybox "$work/bundle/rootfs/bin/$a"; done
(cd "$work/bundle" && "$ours" spec)
jq '.process.terminal=false | .process.args=["/bin/true"] | .root.readonly=true' "$work/bundle/config.json" > "$work/c" && mv "$work/c" "$work/bundle/config.json"

peers=(ours ours-reexec)
command -v runc >/dev/null && peers+=(runc)
# crun refuses cgroup v1 "hybrid" hosts; it is measured where it runs.
if command -v crun >/dev/null && crun --root "$work/crun-probe" run --bundle "$work/bundle" probe >/dev/null 2>&1; then peers+=(crun); fi

binary() { case "$1" in ours) echo "$ours" ;; ours-reexec) echo "$ours_reexec" ;; *) command -v "$1" ;; esac; }
declare -A times
for ((i = 0; i < runs; i++)); do
  for p in "${peers[@]}"; do
    b="$(binary "$p")"
    start=$(date +%s%N)
    "$b" --root "$work/root-$p" run --bundle "$work/bundle" "b$i" >/dev/null
    end=$(date +%s%N)
    times[$p]+="$(( (end - start) / 1000 )) "
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
declare -A med
printf '%-12s %12s\n' runtime "median(ms)"
for p in "${peers[@]}"; do
  med[$p]=$(median <<<"${times[$p]}")
  printf '%-12s %12.2f\n' "$p" "$(echo "${med[$p]} / 1000" | bc -l)"
done
for p in "${peers[@]}"; do
  [[ $p == ours* ]] && continue
  printf 'ours/%s ratio: %.2f   ours-reexec/%s ratio: %.2f\n' "$p" "$(echo "${med[ours]} / ${med[$p]}" | bc -l)" "$p" "$(echo "${med[ours-reexec]} / ${med[$p]}" | bc -l)"
done

# Peak RSS of a resident shim supervising a sleeping container.
jq '.process.args=["/bin/sleep","5"]' "$work/bundle/config.json" > "$work/c" && mv "$work/c" "$work/bundle/config.json"
"$ours" --root "$work/root-shim" shim --bundle "$work/bundle" --log-path "$work/shim.log" --exit-file "$work/exit.json" \
  --control-socket "$work/ctl.sock" rss >"$work/ready" &
for _ in $(seq 100); do [[ -s "$work/ready" ]] && break; sleep 0.05; done
sleep 1
shim=$(pgrep -f "shim --bundle $work/bundle" | head -1)
echo "shim VmHWM: $(awk '/VmHWM/ {print $2, $3}' /proc/"$shim"/status)  VmRSS: $(awk '/VmRSS/ {print $2, $3}' /proc/"$shim"/status)"
wait
"$ours" --root "$work/root-shim" delete --force rss >/dev/null 2>&1 || true
