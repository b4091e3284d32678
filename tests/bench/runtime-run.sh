#!/usr/bin/env bash
# Times `run` of /bin/true in a busybox bundle for dashboard-runtime, runc and crun, interleaved,
# N runs each, and prints medians and ratios (crun, where it refuses the host's cgroup layout, in a
# second round inside a mount namespace: see below); then the peak RSS of a resident shim.
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
trap 'chattr -i "$work/bin/dashboard-runtime"; umount "$work/mntns" "$work/mntns-crun" 2>/dev/null; rm -rf "$work"' EXIT
ours="$work/bin/dashboard-runtime"
ours_reexec="$bin/dashboard-runtime"

mkdir -p "$work/bundle/rootfs/bin" "$work/bundle/rootfs"/{proc,sys,dev,etc,tmp}
cp "$(command -v busybox)" "$work/bundle/rootfs/bin/busybox"
for a in sh true sleep; do ln -s busybox "$work/bundle/rootfs/bin/$a"; done
(cd "$work/bundle" && "$ours" spec)
jq '.process.terminal=false | .process.args=["/bin/true"] | .root.readonly=true' "$work/bundle/config.json" > "$work/c" && mv "$work/c" "$work/bundle/config.json"

# crun (1.8) knows config versions up to 1.1.0 only: it gets its own bundle that differs in ociVersion alone.
mkdir -p "$work/crun-bundle"
ln -s ../bundle/rootfs "$work/crun-bundle/rootfs"
jq '.ociVersion="1.1.0"' "$work/bundle/config.json" > "$work/crun-bundle/config.json"

binary() { case "$1" in ours) echo "$ours" ;; ours-reexec) echo "$ours_reexec" ;; *) command -v "$1" ;; esac; }
bundle_of() { if [[ $1 == crun ]]; then echo "$work/crun-bundle"; else echo "$work/bundle"; fi; }
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# bench TAG WRAP... -- PEER...: runs every peer RUNS times, interleaved, each command prefixed by WRAP
# (empty, or an nsenter), and prints the medians and the ratios of ours to each peer.
bench() {
  local tag="$1"; shift
  local wrap=()
  while [[ $1 != -- ]]; do wrap+=("$1"); shift; done
  shift
  local peers=("$@") p i b start end bundle
  declare -A times=() med=()
  for ((i = 0; i < runs; i++)); do
    for p in "${peers[@]}"; do
      b="$(binary "$p")"
      if [[ ${#wrap[@]} -gt 0 ]]; then wrap=(nsenter --mount="$(wrap_of "$p")"); fi
      bundle="$(bundle_of "$p")"
      # bash's own clock (microseconds): $(date) around the command put a fork, an exec and an exit of
      # date inside every measurement, ~2-5 ms added to each runtime alike, which pulled every ratio to 1.
      start=${EPOCHREALTIME/./}
      "${wrap[@]}" "$b" --root "$work/root-$tag-$p" run --bundle "$bundle" "b$i" >/dev/null
      end=${EPOCHREALTIME/./}
      times[$p]+="$(( end - start )) "
    done
  done
  printf '%-12s %12s   (%s)\n' runtime "median(ms)" "$tag"
  for p in "${peers[@]}"; do
    med[$p]=$(median <<<"${times[$p]}")
    printf '%-12s %12.2f\n' "$p" "$(echo "${med[$p]} / 1000" | bc -l)"
  done
  for p in "${peers[@]}"; do
    [[ $p == ours* ]] && continue
    printf 'ours/%s ratio: %.2f' "$p" "$(echo "${med[ours]} / ${med[$p]}" | bc -l)"
    [[ -n ${med[ours-reexec]:-} ]] && printf '   ours-reexec/%s ratio: %.2f' "$p" "$(echo "${med[ours-reexec]} / ${med[$p]}" | bc -l)"
    printf '\n'
  done
}

peers=(ours ours-reexec)
command -v runc >/dev/null && peers+=(runc)
crun_here=0
if command -v crun >/dev/null && crun --root "$work/crun-probe" run --bundle "$work/crun-bundle" probe >/dev/null 2>&1; then
  peers+=(crun)
  crun_here=1
fi
bench host -- "${peers[@]}"

# crun refuses a cgroup v1 "hybrid" host whose cgroup2 mount carries a controller (here hugetlb). Then
# the three run in private mount namespaces (kept by bind-mounted ns files) without that cgroup2 mount:
# ours and runc in one where it is unmounted, crun (which wants the directory) in one where an empty
# tmpfs covers it and takes crun's cgroup2 pid write. Each joins the same v1 hierarchies and no real
# cgroup2, and every command pays the same nsenter.
if [[ $crun_here == 0 ]] && command -v crun >/dev/null && command -v nsenter >/dev/null \
  && [[ -n $(awk '$9 == "cgroup2" {print $5}' /proc/self/mountinfo) ]]; then
  unified="$(awk '$9 == "cgroup2" {print $5; exit}' /proc/self/mountinfo)"
  touch "$work/mntns" "$work/mntns-crun"
  if unshare --mount="$work/mntns" --propagation private umount "$unified" \
    && unshare --mount="$work/mntns-crun" --propagation private mount -t tmpfs -o size=4m,mode=0755 bench-no-cgroup2 "$unified" \
    && nsenter --mount="$work/mntns-crun" crun --root "$work/crun-probe" run --bundle "$work/crun-bundle" probe2 >/dev/null 2>&1; then
    wrap_of() { if [[ $1 == crun ]]; then echo "$work/mntns-crun"; else echo "$work/mntns"; fi; }
    peers=(ours)
    command -v runc >/dev/null && peers+=(runc)
    echo "crun round: private mount namespaces without the cgroup2 mount, every command via nsenter"
    bench nsenter nsenter -- "${peers[@]}" crun
  else
    echo "crun: does not run here, even without the cgroup2 mount"
  fi
fi

# Peak RSS of a resident shim supervising a sleeping container.
jq '.process.args=["/bin/sleep","5"]' "$work/bundle/config.json" > "$work/c" && mv "$work/c" "$work/bundle/config.json"
"$ours" --root "$work/root-shim" shim --bundle "$work/bundle" --log-path "$work/shim.log" --exit-file "$work/exit.json" \
  --control-socket "$work/ctl.sock" rss >"$work/ready" &
for _ in $(seq 100); do [[ -s "$work/ready" ]] && break; sleep 0.05; done
sleep 1
# The shim verb execs into the lean dashboard-shim (other arguments), so find it by its control socket.
shim=$(pgrep -f -- "--control-socket $work/ctl.sock" | head -1)
echo "shim VmHWM: $(awk '/VmHWM/ {print $2, $3}' /proc/"$shim"/status)  VmRSS: $(awk '/VmRSS/ {print $2, $3}' /proc/"$shim"/status)"
wait
"$ours" --root "$work/root-shim" delete --force rss >/dev/null 2>&1 || true
