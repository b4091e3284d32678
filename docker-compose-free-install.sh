#!/usr/bin/env bash
# Installs and starts the container dashboard (engine + web UI + OCI runtime) on a Debian/Ubuntu
# host without Docker or Compose. Idempotent: running it again brings an install up to date and
# keeps its data, certificate and admin account.
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: docker-compose-free-install.sh [options]

Install (default), upgrade or remove the container dashboard: dashboard-runtime (NativeAOT OCI
runtime), dashboard-engine (root daemon, Docker API on a unix socket) and dashboard-web (HTTPS UI).

Modes
  (none)                install or update and start both services, print the URL and the
                        one-time bootstrap secret, check their health
  --build-only          build and publish the binaries into PREFIX, install nothing else
  --upgrade             build new binaries, stop web and engine, swap the binaries, start the
                        engine (it applies database migrations) then the web UI; containers keep
                        running (each runs under its own shim, a separate session)
  --uninstall           stop the services (and the containers), remove binaries, units, config,
                        run and log directories; keep the data directory
  --purge               with --uninstall: remove the data directory and the service user too

Locations (every one can point into a scratch directory, e.g. for tests)
  --prefix DIR          binaries: PREFIX/bin and PREFIX/lib/dashboard (default /usr/local)
  --data-dir DIR        data: DIR/engine (root, 0700) and DIR/web (service user, 0700)
                        (default /var/lib/dashboard)
  --config-dir DIR      engine.json, web.json, tls/ (default /etc/dashboard)
  --unit-dir DIR        systemd units (default /etc/systemd/system)
  --run-dir DIR         engine socket, runtime state, pid files (default /run/dashboard)
  --log-dir DIR         service logs when not under systemd (default /var/log/dashboard)

Settings
  --port N              HTTPS port of the web UI (default 8443)
  --bind ADDR           address the web UI listens on (default 0.0.0.0)
  --cert FILE --key FILE  PEM certificate and key for the web UI (default: a self-signed one)
  --user NAME           service user of the web UI and group of the engine socket
                        (default dashboard, created as a system user when missing)
  --cgroup-parent PATH  parent cgroup of the containers (default /dashboard)
  --from-build DIR      take the binaries from a prefix published earlier with --build-only
                        instead of building (DIR or DIR/bin may be given)
  --no-start            install everything but do not start the services
  --no-systemd          do not use systemd even when it is PID 1 (background processes)
  --foreground          run the engine in the background and the web UI in the foreground
                        instead of using systemd or background processes; Ctrl-C stops both
  --skip-packages       do not check or install distribution packages
  -h, --help            this text

Under systemd the services log to the journal (journalctl -u dashboard-engine -u dashboard-web);
otherwise to LOG_DIR/engine.log and LOG_DIR/web.log, with pid files in RUN_DIR.
USAGE
}

die() { echo "docker-compose-free-install.sh: $*" >&2; exit 1; }
log() { printf '==> %s\n' "$*"; }

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
prefix=/usr/local
data_dir=/var/lib/dashboard
config_dir=/etc/dashboard
unit_dir=/etc/systemd/system
run_dir=/run/dashboard
log_dir=/var/log/dashboard
port=8443
bind=0.0.0.0
cert=""
key=""
user=dashboard
cgroup_parent=/dashboard
from_build=""
changed=0
mode=install
purge=0
start=1
use_systemd=auto
foreground=0
skip_packages=0

need() { [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value (see --help)"; }
while (($#)); do
  case "$1" in
    --build-only) mode=build ;;
    --upgrade) mode=upgrade ;;
    --uninstall) mode=uninstall ;;
    --purge) purge=1 ;;
    --prefix) need "$@"; prefix="$2"; shift ;;
    --data-dir) need "$@"; data_dir="$2"; shift ;;
    --config-dir) need "$@"; config_dir="$2"; shift ;;
    --unit-dir) need "$@"; unit_dir="$2"; shift ;;
    --run-dir) need "$@"; run_dir="$2"; shift ;;
    --log-dir) need "$@"; log_dir="$2"; shift ;;
    --port) need "$@"; port="$2"; shift ;;
    --bind) need "$@"; bind="$2"; shift ;;
    --cert) need "$@"; cert="$2"; shift ;;
    --key) need "$@"; key="$2"; shift ;;
    --user) need "$@"; user="$2"; shift ;;
    --cgroup-parent) need "$@"; cgroup_parent="$2"; shift ;;
    --from-build) need "$@"; from_build="$2"; shift ;;
    --no-start) start=0 ;;
    --no-systemd) use_systemd=no ;;
    --foreground) foreground=1 ;;
    --skip-packages) skip_packages=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "docker-compose-free-install.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

[[ $port =~ ^[0-9]+$ ]] && ((port > 0 && port < 65536)) || die "--port: '$port' is not a port number"
[[ -n $cert && -z $key || -z $cert && -n $key ]] && die "--cert and --key go together"
[[ $cgroup_parent == /* && $cgroup_parent != *..* ]] || die "--cgroup-parent: must be an absolute cgroup path without '..'"
((purge)) && [[ $mode != uninstall ]] && die "--purge only goes with --uninstall"
abs() { local p="$1"; [[ $p == /* ]] || p="$PWD/$p"; printf '%s' "${p%/}"; }
prefix="$(abs "$prefix")"; data_dir="$(abs "$data_dir")"; config_dir="$(abs "$config_dir")"
unit_dir="$(abs "$unit_dir")"; run_dir="$(abs "$run_dir")"; log_dir="$(abs "$log_dir")"
[[ -n $cert ]] && { cert="$(abs "$cert")"; key="$(abs "$key")"; }

# These directories are created for the dashboard and removed whole by --uninstall/--purge.
for d in "$data_dir" "$config_dir" "$run_dir" "$log_dir"; do
  case "$d" in
    ""|/|/bin|/boot|/dev|/etc|/home|/lib|/lib64|/opt|/proc|/root|/run|/sbin|/srv|/sys|/tmp|/usr|/usr/*bin|/usr/lib|/usr/local|/usr/share|/var|/var/lib|/var/log|/var/tmp)
      die "refusing to use $d as a dashboard directory: uninstall removes it whole" ;;
  esac
done

bin_dir="$prefix/bin"
lib_dir="$prefix/lib/dashboard"
engine_data="$data_dir/engine"
web_data="$data_dir/web"
secret_file="$web_data/bootstrap-secret"
socket="$run_dir/engine.sock"
if [[ $use_systemd == auto ]]; then
  # sd_booted(3): systemd is PID 1 exactly when this directory exists.
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then use_systemd=yes; else use_systemd=no; fi
fi
if [[ $bind == 0.0.0.0 || $bind == "::" || $bind == "[::]" ]]; then probe_host=127.0.0.1; else probe_host="$bind"; fi
[[ $probe_host == *:* && $probe_host != \[* ]] && probe_host="[$probe_host]"
web_url="https://$probe_host:$port"

require_root() { [[ $(id -u) -eq 0 ]] || die "$1 needs root (run it with sudo)"; }

# ---------------------------------------------------------------------------------------------
# Packages and the SDK

ensure_packages() {
  ((skip_packages)) && return 0
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  command -v apt-get >/dev/null || die "missing packages: ${missing[*]} (no apt-get: install them by hand)"
  [[ $(id -u) -eq 0 ]] || die "missing packages: ${missing[*]} (run as root to install them)"
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

has_sdk10() { command -v dotnet >/dev/null && dotnet --list-sdks 2>/dev/null | grep -q '^10\.'; }

# The SDK comes from the distribution when it has dotnet-sdk-10.0 (Ubuntu 24.04+), else from
# Microsoft's package repository (packages-microsoft-prod.deb for this release).
check_dotnet() {
  has_sdk10 && return 0
  [[ $(id -u) -eq 0 ]] || die "the .NET 10 SDK is required to build (run as root to install dotnet-sdk-10.0)"
  export DEBIAN_FRONTEND=noninteractive
  log "the .NET 10 SDK is missing; looking for the package dotnet-sdk-10.0"
  apt-get update -qq || true
  if ! apt-cache show dotnet-sdk-10.0 >/dev/null 2>&1; then
    local id="" version=""
    # shellcheck disable=SC1091
    [[ -r /etc/os-release ]] && { id="$(. /etc/os-release && echo "$ID")"; version="$(. /etc/os-release && echo "$VERSION_ID")"; }
    [[ $id == debian || $id == ubuntu ]] || die "no dotnet-sdk-10.0 package and no Microsoft repository for '$id': install the .NET 10 SDK by hand (https://dot.net)"
    ensure_packages curl ca-certificates
    local deb; deb="$(mktemp --suffix=.deb)"
    log "adding Microsoft's package repository for $id $version"
    if ! curl -fsSL --max-time 60 -o "$deb" "https://packages.microsoft.com/config/$id/$version/packages-microsoft-prod.deb"; then
      rm -f "$deb"
      die "the .NET 10 SDK is missing: neither the distribution's package dotnet-sdk-10.0 nor https://packages.microsoft.com is reachable; install the SDK by hand (https://dot.net) and run this again"
    fi
    dpkg -i "$deb" >/dev/null; rm -f "$deb"
    apt-get update -qq
  fi
  apt-get install -y -qq --no-install-recommends dotnet-sdk-10.0 >/dev/null || die "apt-get install dotnet-sdk-10.0 failed"
  has_sdk10 || die "dotnet-sdk-10.0 is installed but 'dotnet --list-sdks' shows no 10.x SDK"
}

# ---------------------------------------------------------------------------------------------
# Binaries

# Publishes the three programs into $1/{runtime,engine,web}.
publish_into() {
  local out="$1"
  ensure_packages clang lld zlib1g-dev
  check_dotnet
  mkdir -p "$out"
  export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
  log "publishing dashboard-runtime (NativeAOT)"
  dotnet publish "$repo/src/Dashboard.Runtime.Cli/Dashboard.Runtime.Cli.csproj" -c Release -r linux-x64 \
    -o "$out/runtime" -v quiet -nologo
  # The lean resident per-container supervisor the runtime's shim verb execs into (found next to the runtime).
  log "publishing dashboard-shim (NativeAOT)"
  dotnet publish "$repo/src/Dashboard.Shim/Dashboard.Shim.csproj" -c Release -r linux-x64 \
    -o "$out/runtime" -v quiet -nologo
  log "publishing dashboard-engine (NativeAOT)"
  dotnet publish "$repo/src/Dashboard.Engine/Dashboard.Engine.csproj" -c Release -r linux-x64 \
    -o "$out/engine" -v quiet -nologo
  log "publishing dashboard-web"
  dotnet publish "$repo/src/Dashboard.Web/Dashboard.Web.csproj" -c Release -o "$out/web" -v quiet -nologo
}

build_only() {
  publish_into "$lib_dir"
  mkdir -p "$bin_dir"
  install -m 0755 "$lib_dir/runtime/dashboard-runtime" "$bin_dir/dashboard-runtime.new"
  mv -f "$bin_dir/dashboard-runtime.new" "$bin_dir/dashboard-runtime"
  install -m 0755 "$lib_dir/runtime/dashboard-shim" "$bin_dir/dashboard-shim.new"
  mv -f "$bin_dir/dashboard-shim.new" "$bin_dir/dashboard-shim"
  ln -sfn ../lib/dashboard/engine/dashboard-engine "$bin_dir/dashboard-engine"
  ln -sfn ../lib/dashboard/web/dashboard-web "$bin_dir/dashboard-web"
  log "binaries in $bin_dir"
}

# Where an earlier --build-only put its lib tree, given that prefix or its bin directory.
from_build_lib() {
  local d; d="$(abs "$from_build")"
  local c
  for c in "$d/lib/dashboard" "$d/../lib/dashboard"; do
    if [[ -x $c/runtime/dashboard-runtime && -x $c/engine/dashboard-engine && -x $c/web/dashboard-web ]]; then
      (cd "$c" && pwd -P); return 0
    fi
  done
  die "--from-build $from_build: no published binaries (lib/dashboard/{runtime,engine,web}) there"
}

# Fills $lib_dir.new with new binaries (built, or copied from --from-build).
stage_binaries() {
  local staging="$lib_dir.new"
  rm -rf "$staging"
  if [[ -n $from_build ]]; then
    local src; src="$(from_build_lib)"
    log "taking the binaries from $src"
    mkdir -p "$staging"
    cp -a "$src/runtime" "$src/engine" "$src/web" "$staging/"
  else
    publish_into "$staging"
  fi
  chmod -R u=rwX,go=rX "$staging"
}

# The installed runtime is immutable (chattr +i): a container can then never rewrite it through
# /proc/<pid>/exe (CVE-2019-5736), and the runtime, seeing that, runs each container's init in its
# clone child instead of re-executing a sealed memfd copy of itself (faster create). $1 is +i or -i.
runtime_immutable() {
  local flag="$1" f="$2/runtime/dashboard-runtime"
  [[ -f $f ]] && command -v chattr >/dev/null || return 0
  if ! chattr "$flag" "$f" 2>/dev/null && [[ $flag == +i ]]; then
    log "note: cannot make $f immutable on this filesystem; the runtime re-executes a sealed copy instead"
  fi
}

# Renames the staged tree into place: running shims keep executing their (now unlinked) old
# runtime file, so nothing is overwritten in place (that would fail with ETXTBSY or corrupt them).
swap_binaries() {
  local staging="$lib_dir.new" old="$lib_dir.old"
  runtime_immutable -i "$old"
  rm -rf "$old"
  [[ -d $lib_dir ]] && mv "$lib_dir" "$old"
  mv "$staging" "$lib_dir"
  runtime_immutable +i "$lib_dir"
  runtime_immutable -i "$old"
  rm -rf "$old"
  link_binaries
}

link_binaries() {
  mkdir -p "$bin_dir"
  ln -sfn ../lib/dashboard/runtime/dashboard-runtime "$bin_dir/dashboard-runtime"
  ln -sfn ../lib/dashboard/engine/dashboard-engine "$bin_dir/dashboard-engine"
  ln -sfn ../lib/dashboard/web/dashboard-web "$bin_dir/dashboard-web"
}

# ---------------------------------------------------------------------------------------------
# User, directories, TLS, config

ensure_user() {
  if ! getent passwd "$user" >/dev/null; then
    [[ $user == dashboard ]] || die "--user $user: no such user"
    log "creating the system user and group $user"
    getent group "$user" >/dev/null || groupadd --system "$user"
    useradd --system --gid "$user" --home-dir "$web_data" --no-create-home --shell /usr/sbin/nologin \
      --comment "container dashboard web UI" "$user"
  fi
  group="$(id -gn "$user")"
}

# mkdir_mode MODE OWNER PATH: creates PATH if needed and (re)applies mode and owner.
mkdir_mode() { mkdir -p "$3"; chmod "$1" "$3"; chown "$2" "$3"; }

make_dirs() {
  mkdir_mode 0755 root:root "$data_dir"
  mkdir_mode 0700 root:root "$engine_data"
  mkdir_mode 0700 "$user:$group" "$web_data"
  mkdir_mode 0755 root:root "$config_dir"
  mkdir_mode 0750 "root:$group" "$config_dir/tls"
  mkdir_mode 0750 "root:$group" "$run_dir"
  mkdir_mode 0700 root:root "$run_dir/runtime"
  mkdir_mode 0750 "root:$group" "$log_dir"
}

ensure_cert() {
  local c="$config_dir/tls/cert.pem" k="$config_dir/tls/key.pem"
  if [[ -n $cert ]]; then
    [[ -r $cert && -r $key ]] || die "--cert/--key: cannot read $cert or $key"
    openssl x509 -in "$cert" -noout 2>/dev/null || die "--cert $cert: not a PEM certificate"
    openssl pkey -in "$key" -noout 2>/dev/null || die "--key $key: not a PEM private key"
    cmp -s "$cert" "$c" && cmp -s "$key" "$k" || changed=1
    install -m 0644 -o root -g root "$cert" "$c"
    install -m 0640 -o root -g "$group" "$key" "$k"
    return 0
  fi
  if [[ -s $c && -s $k ]]; then
    return 0
  fi
  local host; host="$(hostname -f 2>/dev/null || hostname)"
  log "generating a self-signed TLS certificate for $host"
  local san="DNS:$host,DNS:localhost,IP:127.0.0.1,IP:::1"
  [[ $bind != 0.0.0.0 && $bind != "::" && $bind =~ ^[0-9.]+$ ]] && san="$san,IP:$bind"
  (umask 077; openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
    -subj "/CN=$host" -addext "subjectAltName=$san" -keyout "$k.tmp" -out "$c.tmp" 2>/dev/null) \
    || die "openssl could not create a certificate"
  chown "root:$group" "$k.tmp"; chmod 0640 "$k.tmp"; chmod 0644 "$c.tmp"
  mv -f "$k.tmp" "$k"; mv -f "$c.tmp" "$c"
  changed=1
}

json_str() { local s="${1//\\/\\\\}"; s="${s//\"/\\\"}"; printf '"%s"' "$s"; }

# write_file MODE OWNER PATH: content on stdin; an existing different file is kept as PATH.bak.
write_file() {
  local mode="$1" owner="$2" path="$3" tmp="$3.tmp"
  cat >"$tmp"
  if [[ -f $path ]] && ! cmp -s "$tmp" "$path"; then
    cp -p "$path" "$path.bak"
    log "$path changed (previous version kept as $path.bak)"
    changed=1
  elif [[ ! -f $path ]]; then
    changed=1
  fi
  chmod "$mode" "$tmp"; chown "$owner" "$tmp"; mv -f "$tmp" "$path"
}

write_config() {
  write_file 0600 root:root "$config_dir/engine.json" <<EOF
{
  "data-root": $(json_str "$engine_data"),
  "socket": $(json_str "$socket"),
  "state-root": $(json_str "$run_dir/runtime"),
  "runtime": $(json_str "$bin_dir/dashboard-runtime"),
  "socket-group": $(json_str "$group"),
  "cgroup-parent": $(json_str "$cgroup_parent"),
  "log-format": "json"
}
EOF
  local listen="$bind"
  [[ $listen == *:* && $listen != \[* ]] && listen="[$listen]"
  write_file 0640 "root:$group" "$config_dir/web.json" <<EOF
{
  "Kestrel": {
    "Endpoints": {
      "Https": {
        "Url": $(json_str "https://$listen:$port"),
        "Certificate": {
          "Path": $(json_str "$config_dir/tls/cert.pem"),
          "KeyPath": $(json_str "$config_dir/tls/key.pem")
        }
      }
    }
  },
  "Dashboard": {
    "DataDir": $(json_str "$web_data"),
    "Engines": [ $(json_str "unix://$socket") ],
    "BootstrapSecretFile": $(json_str "$secret_file")
  }
}
EOF
}

# The one-time secret for /account/setup. The web UI deletes it once the admin exists, so a
# missing file next to an existing database means the setup is done.
ensure_secret() {
  if [[ -s $secret_file ]]; then return 0; fi
  if [[ -f $web_data/web.db ]]; then return 0; fi
  (umask 077; openssl rand -hex 24 >"$secret_file.tmp")
  chown "$user:$group" "$secret_file.tmp"; chmod 0600 "$secret_file.tmp"
  mv -f "$secret_file.tmp" "$secret_file"
}

# ---------------------------------------------------------------------------------------------
# systemd units

write_units() {
  mkdir -p "$unit_dir"
  # The engine runs containers: it gets no private mount namespace (ProtectSystem, PrivateTmp,
  # ReadWritePaths...): container mounts made there would be invisible to the host and stranded
  # after an engine restart. No NoNewPrivileges or SystemCallFilter either: every container
  # would inherit them (setuid binaries and seccomp profiles inside containers would break).
  write_file 0644 root:root "$unit_dir/dashboard-engine.service" <<EOF
[Unit]
Description=Container dashboard engine (Docker Engine API on $socket)
Documentation=file://$lib_dir/engine/README.md
After=network-online.target local-fs.target
Wants=network-online.target

[Service]
Type=notify
ExecStart=$bin_dir/dashboard-engine --config $config_dir/engine.json
# The .NET diagnostic port of a root process hands a debugger to any local root-equivalent (security.md A14).
Environment=DOTNET_EnableDiagnostics=0
Environment=DOTNET_CLI_TELEMETRY_OPTOUT=1
# Containers get their own cgroups below the delegated subtree.
Delegate=yes
# Only the engine is stopped: each container's shim is a separate session that must outlive it.
KillMode=process
Restart=on-failure
RestartSec=2s
TimeoutStopSec=30s
LimitNOFILE=1048576
TasksMax=infinity
OOMScoreAdjust=-500
UMask=0077

[Install]
WantedBy=multi-user.target
EOF
  local caps="" ambient=""
  if ((port < 1024)); then caps="CAP_NET_BIND_SERVICE"; ambient="AmbientCapabilities=CAP_NET_BIND_SERVICE"; fi
  # MemoryDenyWriteExecute is left out: the .NET JIT needs writable+executable pages.
  write_file 0644 root:root "$unit_dir/dashboard-web.service" <<EOF
[Unit]
Description=Container dashboard web UI (https://$bind:$port)
After=network-online.target dashboard-engine.service
Wants=network-online.target dashboard-engine.service

[Service]
Type=notify
User=$user
Group=$group
# Membership of the engine socket's group (root:$group 0660).
SupplementaryGroups=$group
ExecStart=$bin_dir/dashboard-web --config $config_dir/web.json
Environment=DOTNET_CLI_TELEMETRY_OPTOUT=1
Environment=HOME=$web_data
WorkingDirectory=$web_data
Restart=on-failure
RestartSec=2s
UMask=0077
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=$web_data
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
RemoveIPC=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
SystemCallArchitectures=native
SystemCallFilter=@system-service
CapabilityBoundingSet=$caps
$ambient

[Install]
WantedBy=multi-user.target
EOF
}

# ---------------------------------------------------------------------------------------------
# Starting and stopping

# pid of a background service if it runs (pid file + the process is really that program).
running_pid() {
  local name="$1" f="$run_dir/$1.pid" pid
  [[ -s $f ]] || return 1
  pid="$(cat "$f")"
  [[ $pid =~ ^[0-9]+$ && -d /proc/$pid ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "dashboard-$name" || return 1
  echo "$pid"
}

start_background() {
  local name="$1" pid
  if pid="$(running_pid "$name")"; then log "dashboard-$name already runs (pid $pid)"; return 0; fi
  touch "$log_dir/$name.log"; chmod 0640 "$log_dir/$name.log"; chown "root:$group" "$log_dir/$name.log"
  # setsid: the services leave this script's session and terminal; without a fork (the script is
  # never a process group leader here), so $! is the service's own pid.
  # umask 077 as the units' UMask: databases, keys and logs the services create are private.
  if [[ $name == engine ]]; then
    (umask 077 && DOTNET_EnableDiagnostics=0 DOTNET_CLI_TELEMETRY_OPTOUT=1 \
      exec setsid nohup "$bin_dir/dashboard-engine" --config "$config_dir/engine.json" \
      >>"$log_dir/engine.log" 2>&1 </dev/null) &
  else
    (umask 077 && cd "$web_data" && HOME="$web_data" DOTNET_CLI_TELEMETRY_OPTOUT=1 \
      exec setsid nohup setpriv --reuid="$user" --regid="$group" --init-groups --inh-caps=-all \
      "$bin_dir/dashboard-web" --config "$config_dir/web.json" \
      >>"$log_dir/web.log" 2>&1 </dev/null) &
  fi
  echo $! >"$run_dir/$name.pid"
  log "dashboard-$name started in the background (pid $!, log $log_dir/$name.log)"
}

stop_background() {
  local name="$1" pid i
  pid="$(running_pid "$name")" || { rm -f "$run_dir/$name.pid"; return 0; }
  log "stopping dashboard-$name (pid $pid)"
  # Only the service process itself: container shims are other sessions and keep running.
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    [[ -d /proc/$pid ]] || break
    sleep 0.1
  done
  if [[ -d /proc/$pid ]]; then
    echo "dashboard-$name did not stop within 30 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
  fi
  rm -f "$run_dir/$name.pid"
}

start_service() {
  if [[ $use_systemd == yes ]]; then
    systemctl enable --now "dashboard-$1.service" >/dev/null 2>&1 || { systemctl status "dashboard-$1.service" --no-pager >&2 || true; die "systemctl could not start dashboard-$1"; }
  else
    start_background "$1"
  fi
}

stop_service() {
  if [[ $use_systemd == yes ]]; then
    systemctl stop "dashboard-$1.service" 2>/dev/null || true
  fi
  stop_background "$1"
}

# GET on the engine socket; prints the body.
engine_get() { curl -fsS --max-time 5 --unix-socket "$socket" "http://localhost$1"; }

wait_healthy() {
  local i engine_ok=0 web_ok=0
  log "checking health (up to 60 s)"
  for ((i = 0; i < 120; i++)); do
    ((engine_ok)) || { engine_get /readyz >/dev/null 2>&1 && engine_ok=1; }
    ((web_ok)) || { curl -fsSk --max-time 5 "$web_url/readyz" >/dev/null 2>&1 && web_ok=1; }
    ((engine_ok && web_ok)) && { log "engine and web UI are ready"; return 0; }
    sleep 0.5
  done
  ((engine_ok)) || echo "dashboard-engine is not ready: see $(log_hint engine)" >&2
  ((web_ok)) || echo "dashboard-web is not ready at $web_url/readyz: see $(log_hint web)" >&2
  return 1
}

wait_engine() {
  local i
  for ((i = 0; i < 120; i++)); do
    engine_get /readyz >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  die "dashboard-engine did not become ready within 60 s: see $(log_hint engine)"
}

log_hint() {
  if [[ $use_systemd == yes ]]; then echo "journalctl -u dashboard-$1"; else echo "$log_dir/$1.log"; fi
}

print_access() {
  local host; host="$(hostname -f 2>/dev/null || hostname)"
  local shown="$bind"
  [[ $bind == 0.0.0.0 || $bind == "::" ]] && shown="$host"
  echo
  echo "Dashboard: https://$shown:$port/  (self-signed certificate unless --cert was given)"
  if [[ -s $secret_file ]]; then
    echo "First sign-in: open https://$shown:$port/account/setup and enter this one-time secret:"
    echo
    echo "    $(cat "$secret_file")"
    echo
    echo "(it is stored in $secret_file and deleted once the admin account exists)"
  fi
  echo "Docker CLI against the engine: docker -H unix://$socket ps"
}

# ---------------------------------------------------------------------------------------------
# Modes

do_install() {
  require_root "the install"
  ensure_packages clang lld zlib1g-dev containernetworking-plugins iptables iproute2 openssl curl util-linux passwd
  stage_binaries
  ensure_user
  make_dirs
  ensure_cert
  write_config
  ensure_secret
  write_units
  if [[ $use_systemd == yes ]]; then systemctl daemon-reload; fi
  if [[ -d $lib_dir ]] && diff -rq "$lib_dir.new" "$lib_dir" >/dev/null 2>&1; then
    rm -rf "$lib_dir.new"
    runtime_immutable +i "$lib_dir"
    link_binaries
  else
    changed=1
  fi
  # Something new: swap it in with both services stopped. Nothing new: running services stay as they are.
  if ((changed)); then
    stop_service web
    stop_service engine
    [[ -d $lib_dir.new ]] && swap_binaries
    log "installed into $prefix (config $config_dir, data $data_dir)"
  else
    log "$prefix is up to date (config $config_dir, data $data_dir)"
  fi
  ((start)) || { log "not started (--no-start)"; return 0; }
  if ((foreground)); then run_foreground; return; fi
  start_service engine
  wait_engine
  start_service web
  wait_healthy
  print_access
}

do_upgrade() {
  require_root "--upgrade"
  [[ -x $bin_dir/dashboard-engine && -f $config_dir/engine.json ]] || die "--upgrade: no install found in $prefix with config in $config_dir"
  ensure_user
  stage_binaries
  log "upgrading: web UI and engine stop, containers keep running"
  stop_service web
  stop_service engine
  swap_binaries
  ((start)) || return 0
  # The engine applies its database migrations at start, before it listens.
  start_service engine
  wait_engine
  start_service web
  wait_healthy
  log "upgrade done"
}

stop_containers() {
  engine_get /_ping >/dev/null 2>&1 || return 0
  local ids id
  ids="$(engine_get '/containers/json?all=1' | grep -o '"Id":"[0-9a-f]*"' | cut -d'"' -f4)" || return 0
  for id in $ids; do
    if ((purge)); then
      log "removing container ${id:0:12}"
      curl -fsS --max-time 40 --unix-socket "$socket" -X DELETE "http://localhost/containers/$id?force=1&v=1" >/dev/null || true
    else
      curl -fsS --max-time 40 --unix-socket "$socket" -X POST "http://localhost/containers/$id/stop?t=10" >/dev/null 2>&1 || true
    fi
  done
}

# Container root filesystems are overlay mounts below the data directory; with the engine gone
# nobody else unmounts them, and rm -rf would stop at each mount point.
unmount_under() {
  local m
  findmnt -rno TARGET 2>/dev/null | awk -v d="$1/" 'index($0, d) == 1' | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
}

# The engine keeps its default bridge up while it is installed (as docker0 is: a bridge appearing on a
# container's first start would change the host's addresses); it records each bridge it made.
remove_bridges() {
  local f
  for f in "$run_dir/runtime/bridges"/dbr-*; do
    [[ -e $f ]] || continue
    ip link delete "${f##*/}" 2>/dev/null || true
    rm -f "$f"
  done
}

do_uninstall() {
  require_root "--uninstall"
  stop_containers
  stop_service web
  stop_service engine
  remove_bridges
  if [[ $use_systemd == yes ]]; then
    systemctl disable dashboard-web.service dashboard-engine.service >/dev/null 2>&1 || true
  fi
  rm -f "$unit_dir/dashboard-engine.service" "$unit_dir/dashboard-web.service"
  if [[ $use_systemd == yes ]]; then systemctl daemon-reload; fi
  local f
  for f in dashboard-runtime dashboard-shim dashboard-engine dashboard-web; do rm -f "$bin_dir/$f"; done
  for f in "$lib_dir" "$lib_dir.new" "$lib_dir.old"; do runtime_immutable -i "$f"; done
  rm -rf "$lib_dir" "$lib_dir.new" "$lib_dir.old"
  # A scratch prefix or unit directory goes when empty; the system's own (/usr/local/bin...) stay.
  if [[ $prefix != /usr/local && $prefix != /usr && $prefix != /opt ]]; then
    rmdir "$prefix/lib" "$bin_dir" "$prefix" 2>/dev/null || true
  fi
  rm -rf "$config_dir" "$run_dir" "$log_dir"
  if [[ $unit_dir != /etc/systemd/system && $unit_dir != /lib/systemd/system && $unit_dir != /usr/lib/systemd/system ]]; then
    rmdir "$unit_dir" 2>/dev/null || true
  fi
  if ((purge)); then
    unmount_under "$data_dir"
    rm -rf "$data_dir"
    if [[ $user == dashboard ]] && getent passwd dashboard >/dev/null; then
      local uid; uid="$(id -u dashboard)"
      if ((uid < 1000)); then
        userdel dashboard 2>/dev/null || true
        getent group dashboard >/dev/null && groupdel dashboard 2>/dev/null || true
      fi
    fi
    log "uninstalled and purged"
  else
    log "uninstalled; data kept in $data_dir (remove it with --uninstall --purge)"
  fi
}

run_foreground() {
  start_background engine
  wait_engine
  trap 'stop_background engine' EXIT
  print_access
  log "web UI in the foreground (Ctrl-C stops both)"
  cd "$web_data"
  HOME="$web_data" setpriv --reuid="$user" --regid="$group" --init-groups --inh-caps=-all \
    "$bin_dir/dashboard-web" --config "$config_dir/web.json"
}

# One block read whole before it runs, ending in exit: bash reads scripts as it goes, so a checkout
# that rewrites this file during a long build would otherwise feed it the new file's bytes.
{
  case "$mode" in
    build) build_only ;;
    install) do_install ;;
    upgrade) do_upgrade ;;
    uninstall) do_uninstall ;;
  esac
  exit 0
}
