#!/bin/bash
# A shell stand-in for dashboard-runtime that follows the engine <-> runtime contract (shim JSON line,
# exit file, runc-style verbs and error lines), so RuntimeCliOciRuntime is tested with real processes.
set -u
[[ "$1" == "--root" ]] || { echo '{"level":"error","msg":"missing --root"}' >&2; exit 2; }
root="$2"; verb="$3"; shift 3
err() { printf '{"level":"error","msg":"%s"}\n' "$1" >&2; exit 1; }
case "$verb" in
  shim)
    while [[ $# -gt 1 ]]; do
      case "$1" in
        --bundle) bundle="$2" ;; --log-path) log="$2" ;; --exit-file) exitfile="$2" ;;
        --control-socket|--log-max-size|--log-max-files) ;;
        *) err "unknown flag $1" ;;
      esac
      shift 2
    done
    id="$1"
    mkdir -p "$root/$id"
    cmd="$(jq -r '.process.args[0]' "$bundle/config.json")"
    [[ "$cmd" == "sleep" ]] || { echo "{\"error\":\"exec: \\\"$cmd\\\": executable file not found in \$PATH\"}"; exit 1; }
    sleep 1000 &
    child=$!
    echo "$child" > "$root/$id/pid"
    echo "$bundle" > "$root/$id/bundle"
    printf '%s stdout F started\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" >> "$log"
    echo "{\"pid\":$child}"
    exec >/dev/null 2>&1
    wait "$child"; code=$?
    printf '{"exitCode":%d,"signal":0,"oomKilled":false,"startedAt":"","finishedAt":"%s"}' "$code" "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" > "$exitfile.tmp"
    mv "$exitfile.tmp" "$exitfile"
    ;;
  state)
    id="$1"; [[ -d "$root/$id" ]] || err "container \"$id\" does not exist"
    pid="$(cat "$root/$id/pid")"; status=stopped
    kill -0 "$pid" 2>/dev/null && status=running
    echo "{\"ociVersion\":\"1.2.1\",\"id\":\"$id\",\"status\":\"$status\",\"pid\":$pid,\"bundle\":\"$(cat "$root/$id/bundle")\"}"
    ;;
  kill)
    id="$1"; [[ -d "$root/$id" ]] || err "container \"$id\" does not exist"
    kill -"$2" "$(cat "$root/$id/pid")" 2>/dev/null || err "container not running"
    ;;
  pause|resume)
    id="$1"; [[ -d "$root/$id" ]] || err "container \"$id\" does not exist"
    kill -"$([[ $verb == pause ]] && echo STOP || echo CONT)" "$(cat "$root/$id/pid")"
    ;;
  ps)
    id="${!#}"; [[ -d "$root/$id" ]] || err "container \"$id\" does not exist"
    echo "[$(cat "$root/$id/pid")]"
    ;;
  delete)
    id="${!#}"; [[ -d "$root/$id" ]] || err "container \"$id\" does not exist"
    [[ "$1" == "--force" ]] && kill -9 "$(cat "$root/$id/pid")" 2>/dev/null
    rm -rf "${root:?}/$id"
    ;;
  *) err "unknown command $verb" ;;
esac
