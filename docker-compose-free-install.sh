#!/usr/bin/env bash
# Installs and starts the container dashboard (engine + web UI + OCI runtime) on a Debian/Ubuntu
# host without Docker or Compose. Idempotent: running it again brings an install up to date.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: docker-compose-free-install.sh [options]

  --build-only          build and publish the binaries into PREFIX/bin, install nothing else
  --prefix DIR          where binaries go (default /usr/local)
  --data-dir DIR        engine and web data (default /var/lib/dashboard)
  --port N              HTTPS port of the web UI (default 8443)
  --bind ADDR           address the web UI listens on (default 0.0.0.0)
  --cert FILE --key FILE  TLS certificate and key for the web UI (default: self-signed)
  --foreground          stay in the foreground instead of using systemd or background processes
  --upgrade             replace binaries, apply migrations, restart web then engine
  --uninstall           remove binaries, units and config; keep data (add --purge to remove it)
  --purge               with --uninstall: remove data as well
  -h, --help            this text

Not done yet: only --build-only is implemented; the full install (user, units, TLS, health
check) is tracked in the install issue.
USAGE
}

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
prefix=/usr/local
data_dir=/var/lib/dashboard
build_only=0
port=8443
bind=0.0.0.0
while (($#)); do
  case "$1" in
    --build-only) build_only=1 ;;
    --prefix) prefix="${2:?--prefix needs a directory}"; shift ;;
    --data-dir) data_dir="${2:?--data-dir needs a directory}"; shift ;;
    --port) port="${2:?--port needs a number}"; shift ;;
    --bind) bind="${2:?--bind needs an address}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "docker-compose-free-install.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

log() { printf '==> %s\n' "$*"; }

ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
      echo "missing packages: ${missing[*]} (run as root to install them)" >&2; exit 1
    fi
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

check_dotnet() {
  if ! command -v dotnet >/dev/null || ! dotnet --list-sdks | grep -q '^10\.'; then
    echo "the .NET 10 SDK is required to build the dashboard (apt-get install dotnet-sdk-10.0)" >&2
    exit 1
  fi
}

build() {
  ensure_packages clang lld
  check_dotnet
  local bin="$prefix/bin" lib="$prefix/lib/dashboard"
  mkdir -p "$bin" "$lib"
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
  log "publishing dashboard-runtime (NativeAOT)"
  dotnet publish "$repo/src/Dashboard.Runtime.Cli/Dashboard.Runtime.Cli.csproj" -c Release -r linux-x64 \
    -o "$lib/runtime" -v quiet -nologo
  install -m 0755 "$lib/runtime/dashboard-runtime" "$bin/dashboard-runtime"
  local app
  for app in Engine Web; do
    local name="dashboard-${app,,}"
    log "publishing $name"
    dotnet publish "$repo/src/Dashboard.$app/Dashboard.$app.csproj" -c Release -o "$lib/${app,,}" -v quiet -nologo
    ln -sfn "../lib/dashboard/${app,,}/$name" "$bin/$name"
  done
  log "binaries in $bin"
}

build
if ((build_only)); then
  exit 0
fi
echo "docker-compose-free-install.sh: only --build-only is implemented so far" >&2
exit 1
