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
status=0
for proj in "$repo"/tests/*/*.Tests.csproj; do
  name="$(basename "$proj" .csproj)"
  exe="$(dirname "$proj")/bin/Release/net10.0/$name"
  echo "=== $name"
  (cd "$(dirname "$exe")" && "$exe" -xml "$out/results/$name.xml" -noColor "${extra[@]}") || status=1
done

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
