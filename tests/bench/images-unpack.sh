#!/usr/bin/env bash
# Unpack throughput of a >= 100 MB multi-layer gzip image: ours (Dashboard.Images: unpack of an image
# whose blobs are in the content store, and import + unpack from the layout) vs `umoci unpack` vs
# `tar -xzf` of each layer, interleaved, RUNS runs each, on a private tmpfs;
# prints medians, MB/s of uncompressed tar and ratios; then overlay rootfs creation time, and the phase
# rows (DASHBOARD_IMAGES_TIMING=1) of one more unpack: per layer, ms spent inflating, hashing, waiting on
# either side of the inflate pipeline, and applying. The cpu(s) column is the median user+sys CPU time
# of each whole-process tool (tar: tar and its gzip children): on a host shared with other load it says
# more than the wall clock, which then mostly measures the share of the cores each tool got.
# Usage: tests/bench/images-unpack.sh [RUNS] [MB]   (root; publishes tests/bench/ImagesBench in Release,
# ReadyToRun, tiered compilation off: see ImagesBench.csproj)
set -euo pipefail
runs="${1:-5}"
mb="${2:-120}"
here="$(cd "$(dirname "$0")" && pwd)"
case "$(uname -m)" in aarch64) rid=linux-arm64 ;; *) rid=linux-x64 ;; esac
dotnet publish -c Release -r "$rid" --self-contained false "$here/ImagesBench" -o "$here/ImagesBench/bin/publish" -v q -nologo >/dev/null
bench="$here/ImagesBench/bin/publish/ImagesBench"
work="$(mktemp -d /tmp/dash-images-bench.XXXXXX)"
mount -t tmpfs -o size=3g tmpfs "$work"
trap 'umount -l "$work"; rmdir "$work"' EXIT

layout="$work/layout"
bytes=$("$bench" build "$layout" "$mb")
manifest=$(jq -r '.manifests[0].digest' "$layout/index.json" | cut -d: -f2)
mapfile -t layers < <(jq -r '.layers[].digest' "$layout/blobs/sha256/$manifest" | cut -d: -f2)
echo "image: ${#layers[@]} gzip layers, $(echo "$bytes / 1048576" | bc -l | xargs printf '%.1f') MiB uncompressed tar, $(du -sm "$layout" | cut -f1) MiB compressed"

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
ms() { echo "($2 - $1) / 1000000" | bc -l; }
cpuof() { awk '{print $1 + $2}' "$1"; }
declare -A times cpu
for ((i = 0; i < runs; i++)); do
  sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true

  start=$(date +%s%N)
  /usr/bin/time -f '%U %S' -o "$work/cpu" "$bench" unpack "$layout" "$work/ours-$i" >"$work/out"
  end=$(date +%s%N)
  read -r import_ms unpack_ms <"$work/out"
  times[ours]+="$(ms "$start" "$end") "
  cpu[ours]+="$(cpuof "$work/cpu") "
  times[ours-inproc]+="$(echo "$import_ms + $unpack_ms" | bc -l) "
  rm -rf "$work/ours-$i"

  # Blobs already in the content store (as after a pull or load): the unpack alone, whole process.
  "$bench" import "$layout" "$work/stored-$i"
  sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
  start=$(date +%s%N)
  /usr/bin/time -f '%U %S' -o "$work/cpu" "$bench" unpack-stored "$work/stored-$i" >"$work/out"
  end=$(date +%s%N)
  read -r stored_ms <"$work/out"
  times[unpack]+="$(ms "$start" "$end") "
  cpu[unpack]+="$(cpuof "$work/cpu") "
  times[unpack-inproc]+="$stored_ms "
  rm -rf "$work/stored-$i"

  start=$(date +%s%N)
  /usr/bin/time -f '%U %S' -o "$work/cpu" umoci unpack --image "$layout:bench" "$work/umoci-$i" >/dev/null 2>&1
  end=$(date +%s%N)
  times[umoci]+="$(ms "$start" "$end") "
  cpu[umoci]+="$(cpuof "$work/cpu") "
  rm -rf "$work/umoci-$i"

  start=$(date +%s%N)
  mkdir "$work/tar-$i"
  tar_cpu=0
  for l in "${layers[@]}"; do
    /usr/bin/time -f '%U %S' -o "$work/cpu" tar -xzf "$layout/blobs/sha256/$l" -C "$work/tar-$i"
    tar_cpu=$(echo "$tar_cpu + $(cpuof "$work/cpu")" | bc -l)
  done
  end=$(date +%s%N)
  times[tar]+="$(ms "$start" "$end") "
  cpu[tar]+="$tar_cpu "
  rm -rf "$work/tar-$i"
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
declare -A med
printf '%-13s %12s %10s %8s\n' tool "median(ms)" "MB/s" "cpu(s)"
for t in unpack unpack-inproc ours ours-inproc umoci tar; do
  med[$t]=$(median <<<"${times[$t]}")
  c=-
  if [[ -n "${cpu[$t]:-}" ]]; then c=$(printf '%.2f' "$(median <<<"${cpu[$t]}")"); fi
  printf '%-13s %12.1f %10.1f %8s\n' "$t" "${med[$t]}" "$(echo "$bytes / 1000000 / (${med[$t]} / 1000)" | bc -l)" "$c"
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
printf 'speed unpack/tar -xzf: %.2fx   unpack/umoci: %.2fx   (blobs already stored; whole process incl. .NET start-up)\n' \
  "$(echo "${med[tar]} / ${med[unpack]}" | bc -l)" "$(echo "${med[umoci]} / ${med[unpack]}" | bc -l)"
printf 'speed ours/tar -xzf: %.2fx   ours/umoci: %.2fx   (whole process incl. .NET start-up)\n' \
  "$(echo "${med[tar]} / ${med[ours]}" | bc -l)" "$(echo "${med[umoci]} / ${med[ours]}" | bc -l)"
printf 'speed ours-inproc/tar -xzf: %.2fx   ours-inproc/umoci: %.2fx\n' \
  "$(echo "${med[tar]} / ${med[ours-inproc]}" | bc -l)" "$(echo "${med[umoci]} / ${med[ours-inproc]}" | bc -l)"

"$bench" rootfs "$layout" "$work/rootfs-store" 21 >"$work/rootfs.txt"
printf 'overlay rootfs creation: median %.3f ms, max %.3f ms over 20 (first, cold, dropped)\n' \
  "$(tail -n +2 "$work/rootfs.txt" | median)" "$(tail -n +2 "$work/rootfs.txt" | sort -n | tail -1)"

"$bench" import "$layout" "$work/phases"
echo "phase rows of one more unpack (ms; load average now: $(cut -d' ' -f1-3 /proc/loadavg)):"
DASHBOARD_IMAGES_TIMING=1 "$bench" unpack-stored "$work/phases" 2>&1 >/dev/null | sed 's/^/  /'
