#!/usr/bin/env bash
# Runs every test of the project on a Debian/Ubuntu machine, as root.
# Installs what the tests need (idempotently), publishes the binaries once, runs each test
# project and ends with one line: "N passed, M failed, K skipped".
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

need_pkgs=(busybox-static runc crun umoci skopeo docker-registry containernetworking-plugins
  clang lld iptables iproute2 jq strace chromium libcap2-bin zlib1g-dev openssl curl e2fsprogs systemd)
missing=()
for p in "${need_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
out="${DASHBOARD_TEST_OUT:-$repo/artifacts/test}"
rm -rf "$out"; mkdir -p "$out/results"

# Publish the binaries the tests drive (NativeAOT runtime, engine, web) into one prefix.
bash "$repo/docker-compose-free-install.sh" --build-only --prefix "$out/prefix"
export DASHBOARD_BIN="$out/prefix/bin"

dotnet build "$repo/Dashboard.sln" -c Release -v quiet -nologo

# xunit v3 test projects are executables; they are run directly (the .NET 10 SDK's `dotnet test`
# no longer drives them through VSTest). Extra runner arguments may come from DASHBOARD_TEST_ARGS.
read -r -a extra <<<"${DASHBOARD_TEST_ARGS:-}"

# Host state a test must not leave behind: engine bridges, mounts below the temp dir, cgroups below dashboard-test.
# Reported (what appeared during the run), not failed: other users of the host may change the same state meanwhile.
host_leftovers() {
  ip -br link 2>/dev/null | awk '$1 ~ /^dbr-/ { sub(/@.*/, "", $1); print "bridge " $1 }' || true
  awk -v t="${TMPDIR:-/tmp}" 'index($5, t "/") == 1 { print "mount " $5 }' /proc/self/mountinfo || true
  for d in /sys/fs/cgroup/dashboard-test /sys/fs/cgroup/*/dashboard-test; do
    [[ -d "$d" ]] && find "$d" -mindepth 1 -maxdepth 2 -type d -printf 'cgroup %p\n' 2>/dev/null
  done || true
}
leftovers_before="$(host_leftovers | sort -u)"

status=0
for proj in "$repo"/tests/*/*.Tests.csproj; do
  name="$(basename "$proj" .csproj)"
  exe="$(dirname "$proj")/bin/Release/net10.0/$name"
  echo "=== $name"
  (cd "$(dirname "$exe")" && "$exe" -xml "$out/results/$name.xml" -noColor "${extra[@]}") || status=1
done

leftovers="$(comm -13 <(echo "$leftovers_before") <(host_leftovers | sort -u) | sed '/^$/d')"
if [[ -n "$leftovers" ]]; then
  echo "host state left by the tests ($(wc -l <<<"$leftovers") items):"
  awk 'NR <= 60 { print "  " $0 } END { if (NR > 60) print "  ..." }' <<<"$leftovers"
else
  echo "host state left by the tests: none"
fi

passed=0 failed=0 skipped=0
for proj in "$repo"/tests/*/*.Tests.csproj; do
  name="$(basename "$proj" .csproj)"
  xml="$out/results/$name.xml"
  if [[ ! -f "$xml" ]]; then
    echo "no results for $name (test host crashed?)"; failed=$((failed + 1)); continue
  fi
  line="$(grep -o '<assembly [^>]*>' "$xml" | head -1)"
  get() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$line"; }
  p=$(get passed); f=$(get failed); k=$(get skipped); e=$(get errors)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + ${e:-0}))
  skipped=$((skipped + ${k:-0}))
done
if ((status != 0 && failed == 0)); then failed=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
