#!/usr/bin/env bash
# Issue 4 bench (a): Docker API create + start + wait of /bin/true from a present busybox image, N runs
# (one keep-alive connection, the container removed after each run, untimed), interleaved with
# `runc run` of a busybox bundle with the same rootfs and command; prints medians and the ratio.
# Usage (root): DASHBOARD_BIN=<prefix>/bin tests/bench/engine-api.sh [RUNS=50] [NETWORK=none] [WARMUP=2]
runs="${1:-50}"
network="${2:-none}"
warmup="${3:-2}"
source "$(dirname "$0")/engine-lib.sh"
start_engine
load_busybox

# runc's side: the image's rootfs as an OCI bundle (read-only root, no network namespace setup beyond runc's).
mkdir -p "$work/bundle"
cp -a "$work/img/rootfs" "$work/bundle/rootfs"
(cd "$work/bundle" && runc spec)
jq '.process.terminal=false | .process.args=["/bin/true"] | .root.readonly=true' "$work/bundle/config.json" >"$work/c"
mv "$work/c" "$work/bundle/config.json"

cat >"$work/client.py" <<'EOF'
import http.client, json, socket, sys, time
class Unix(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("engine")
        self.path = path
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)
def call(conn, method, path, body=None):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, "/v1.43" + path, body=None if body is None else json.dumps(body), headers=headers)
    r = conn.getresponse()
    data = r.read()
    if r.status >= 300:
        raise SystemExit(f"{method} {path}: {r.status} {data[:300]!r}")
    return json.loads(data) if data else None
conn = Unix(sys.argv[1])
network = sys.argv[2]
split = open(sys.argv[3], "w")
# One request/answer per line on stdin: "run" → microseconds of create+start+wait on stdout.
for line in sys.stdin:
    t0 = time.perf_counter()
    c = call(conn, "POST", "/containers/create", {"Image": "bb", "Cmd": ["/bin/true"], "HostConfig": {"NetworkMode": network}})
    tc = time.perf_counter()
    call(conn, "POST", f"/containers/{c['Id']}/start")
    ts = time.perf_counter()
    w = call(conn, "POST", f"/containers/{c['Id']}/wait")
    t1 = time.perf_counter()
    split.write(f"{int((tc - t0) * 1e6)} {int((ts - tc) * 1e6)} {int((t1 - ts) * 1e6)}\n")
    split.flush()
    if w.get("StatusCode") != 0:
        raise SystemExit(f"exit status {w}")
    call(conn, "DELETE", f"/containers/{c['Id']}?force=1")
    print(int((t1 - t0) * 1e6), flush=True)
EOF
coproc CLIENT { python3 "$work/client.py" "$sock" "$network" "$work/split"; }
ours="" theirs=""
# WARMUP untimed runs each first (first image use, page cache; the engine's JIT tiering up its hot paths).
for ((i = -warmup; i < runs; i++)); do
  echo run >&"${CLIENT[1]}"
  read -r us <&"${CLIENT[0]}" || { echo "client failed" >&2; exit 1; }
  start=$(date +%s%N)
  runc --root "$work/runc" run --bundle "$work/bundle" "r$i" >/dev/null
  end=$(date +%s%N)
  if ((i >= 0)); then
    ours+="$us "
    theirs+="$(((end - start) / 1000)) "
  fi
done
exec {CLIENT[1]}>&-
m_ours=$(median <<<"$ours")
m_runc=$(median <<<"$theirs")
printf '%-34s %12s\n' "what (runs=$runs, warmup=$warmup, network=$network)" "median(ms)"
printf '%-34s %12.2f\n' "engine API create+start+wait" "$(echo "$m_ours / 1000" | bc -l)"
printf '%-34s %12.2f\n' "runc run (same rootfs, /bin/true)" "$(echo "$m_runc / 1000" | bc -l)"
split_median() { awk -v c="$1" -v w="$warmup" 'NR > w {print $c}' "$work/split" | median; }
printf '%-34s %12.2f\n' "  of which create" "$(echo "$(split_median 1) / 1000" | bc -l)"
printf '%-34s %12.2f\n' "  of which start" "$(echo "$(split_median 2) / 1000" | bc -l)"
printf '%-34s %12.2f\n' "  of which wait" "$(echo "$(split_median 3) / 1000" | bc -l)"
printf 'engine/runc ratio: %.2f   target: engine <= 30 ms\n' "$(echo "$m_ours / $m_runc" | bc -l)"
# With DASHBOARD_ENGINE_TIMING=1 the engine logs each create/start/exit's phases, and "notify": from the shim's
# clock reading at the container's exit to the engine seeing the exit (exit file written and fsync'd, shim reaped).
# Prints their medians (ms).
if [[ ${DASHBOARD_ENGINE_TIMING:-} == 1 ]]; then
  grep -o 'timing [a-z]*: total=[^"\\]*' "$work/engine.log" | tail -n "$((4 * runs))" | python3 -c '
import sys, statistics, collections
phases = collections.defaultdict(lambda: collections.defaultdict(list))
for line in sys.stdin:
    op, rest = line.split(":", 1)
    for kv in rest.split():
        k, v = kv.split("=")
        phases[op.split()[1]][k].append(float(v))
for op, kvs in phases.items():
    print(f"engine phases ({op}, median ms): " + " ".join(f"{k}={statistics.median(v):.2f}" for k, v in kvs.items()))
'
fi
