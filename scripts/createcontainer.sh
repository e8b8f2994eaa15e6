#!/usr/bin/env bash
# Creates a kea-knot container with named volumes and writes a systemd unit for it.
# Works with docker or podman. Run as root. See README.md, "Running the image".
#
#   scripts/createcontainer.sh --image IMAGE --domain home.arpa --subnet 192.168.1.0/24 \
#       --ip 192.168.1.2 --network macvlan --parent eth0 --gateway 192.168.1.1
#
# What it does (--dry-run prints it instead):
#   1. named volumes NAME-etc-kea, NAME-lib-kea, NAME-etc-knot, NAME-lib-knot (kept if they
#      exist: a re-created container keeps its configuration, leases, zones and journal);
#   2. with --network macvlan or ipvlan, a network NAME-lan on --parent (if missing);
#   3. `create` with NET_RAW and NET_BIND_SERVICE, TZ, the setup variables, the restart
#      policy and a stop timeout longer than the supervisor's own grace time;
#   4. a systemd unit that starts the container at boot and stops it with that timeout.
set -euo pipefail

# Stopping: the supervisor stops services dependents first, each with its stop_grace
# (services.d: kea-ctrl-agent 10 s, then kea-dhcp4/kea-dhcp6 10 s, then kea-dhcp-ddns 10 s,
# then knot 20 s, which flushes zones and the journal): at most 50 s, plus the SIGKILL of
# anything left. 90 s leaves room for a slow SD card; test/image/static.test.ts recomputes
# the chain from services.d and fails if it ever reaches this value. A short `docker stop`
# (default 10 s) would SIGKILL Knot in the middle of a journal write.
STOP_TIMEOUT=90

usage() {
  cat <<'EOF'
Usage: scripts/createcontainer.sh --image IMAGE [options] [-- CREATE-ARGS...]

Container
  --image IMAGE        image to run (required), e.g. ghcr.io/OWNER/kea-knot:3.0-3.5-1
  --name NAME          container name, prefix of its volumes and unit (default kea-knot)
  --engine ENGINE      docker or podman (default: podman if installed, else docker)
  --restart POLICY     restart policy (default: no when a systemd unit restarts it,
                       else unless-stopped)
  --stop-timeout S     seconds `stop` waits before SIGKILL (default 90; at least 60)
  --tz ZONE            time zone, e.g. Europe/Berlin (default: the host's)
  --env KEY=VALUE      extra environment (repeatable), e.g. --env KEA_KNOT_POOLS=...
  --env-file FILE      extra environment from a file (e.g. the HA settings)

Network (DHCP needs the LAN's broadcasts: host, macvlan or ipvlan, not a bridge)
  --network NET        host (default), macvlan, ipvlan, or an existing network's name
  --ip ADDRESS         the container's address on a macvlan/ipvlan/named network
  --parent IF          host interface for macvlan/ipvlan (e.g. eth0)
  --gateway ADDRESS    LAN gateway for a new macvlan/ipvlan network

First start (written only when the configuration volumes are empty)
  --domain DOMAIN      KEA_KNOT_DOMAIN, e.g. home.arpa
  --subnet CIDR        KEA_KNOT_SUBNET, e.g. 192.168.1.0/24
  --address ADDRESS    KEA_KNOT_ADDRESS (default: --ip)
  --interface IF       KEA_KNOT_INTERFACE (default eth0; with --network host, the host's)

systemd
  --unit FILE          where to write the unit (default /etc/systemd/system/NAME.service)
  --no-unit            write no unit (the restart policy then defaults to unless-stopped)
  --dry-run            print the commands and the unit, change nothing
  -- ARGS...           further arguments for `create`, e.g. -- --ulimit nofile=4096:4096
  -h, --help           this text
EOF
}

name=kea-knot image='' engine='' restart='' tz='' network=host ip='' parent='' gateway=''
domain='' subnet='' address='' interface='' unit='' write_unit=true dry_run=false
stop_timeout=$STOP_TIMEOUT
extra_env=() env_files=() create_extra=()

need() { if [ $# -lt 2 ] || [ -z "$2" ]; then echo "createcontainer: $1 needs a value" >&2; exit 64; fi; }
while [ $# -gt 0 ]; do
  case "$1" in
    --image) need "$@"; image=$2; shift ;;
    --name) need "$@"; name=$2; shift ;;
    --engine) need "$@"; engine=$2; shift ;;
    --restart) need "$@"; restart=$2; shift ;;
    --stop-timeout) need "$@"; stop_timeout=$2; shift ;;
    --tz) need "$@"; tz=$2; shift ;;
    --env) need "$@"; extra_env+=("$2"); shift ;;
    --env-file) need "$@"; env_files+=("$2"); shift ;;
    --network) need "$@"; network=$2; shift ;;
    --ip) need "$@"; ip=$2; shift ;;
    --parent) need "$@"; parent=$2; shift ;;
    --gateway) need "$@"; gateway=$2; shift ;;
    --domain) need "$@"; domain=$2; shift ;;
    --subnet) need "$@"; subnet=$2; shift ;;
    --address) need "$@"; address=$2; shift ;;
    --interface) need "$@"; interface=$2; shift ;;
    --unit) need "$@"; unit=$2; shift ;;
    --no-unit) write_unit=false ;;
    --dry-run) dry_run=true ;;
    --) shift; create_extra=("$@"); break ;;
    -h|--help) usage; exit 0 ;;
    *) echo "createcontainer: unknown option $1 (see --help)" >&2; exit 64 ;;
  esac
  shift
done

[ -n "$image" ] || { echo "createcontainer: --image is required (see --help)" >&2; exit 64; }
[[ $name =~ ^[a-zA-Z0-9][a-zA-Z0-9_.-]*$ ]] || { echo "createcontainer: bad --name $name" >&2; exit 64; }
if ! [[ $stop_timeout =~ ^[0-9]+$ ]] || [ "$stop_timeout" -lt 60 ]; then
  echo "createcontainer: --stop-timeout must be at least 60 s (the supervisor's grace is up to 50 s)" >&2; exit 64
fi
if [ -z "$engine" ]; then
  if command -v podman >/dev/null 2>&1; then engine=podman; elif command -v docker >/dev/null 2>&1; then engine=docker; else
    echo "createcontainer: neither podman nor docker is installed" >&2; exit 69; fi
fi
case "$engine" in docker|podman) ;; *) echo "createcontainer: --engine must be docker or podman" >&2; exit 64 ;; esac
engine_path=$(command -v "$engine" 2>/dev/null || echo "/usr/bin/$engine")
if [ -z "$restart" ]; then
  if $write_unit; then restart=no; else restart=unless-stopped; fi
fi
if [ -z "$tz" ]; then
  if [ -r /etc/timezone ]; then tz=$(head -n1 /etc/timezone)
  elif [ -L /etc/localtime ]; then tz=$(readlink /etc/localtime | sed 's#.*/zoneinfo/##')
  fi
fi
[ -n "$address" ] || address=$ip
[ -n "$unit" ] || unit=/etc/systemd/system/$name.service

exec 3>&1
run() {
  if $dry_run; then { printf '%q ' "$@"; echo; } >&3; else "$@"; fi
}

# 1. volumes (kept when they exist)
for v in etc-kea lib-kea etc-knot lib-knot; do
  if $dry_run || ! "$engine" volume inspect "$name-$v" >/dev/null 2>&1; then
    run "$engine" volume create "$name-$v" >/dev/null
  fi
done

# 2. network
net_args=()
case "$network" in
  host) net_args=(--network host) ;;
  macvlan|ipvlan)
    if [ -z "$parent" ] || [ -z "$subnet" ]; then echo "createcontainer: --network $network needs --parent and --subnet" >&2; exit 64; fi
    [ -n "$ip" ] || { echo "createcontainer: --network $network needs --ip (the container's LAN address)" >&2; exit 64; }
    lan="$name-lan"
    if $dry_run || ! "$engine" network inspect "$lan" >/dev/null 2>&1; then
      opts=(-d "$network" --subnet "$subnet" -o "parent=$parent")
      [ -n "$gateway" ] && opts+=(--gateway "$gateway")
      [ "$network" = ipvlan ] && opts+=(-o ipvlan_mode=l2)
      run "$engine" network create "${opts[@]}" "$lan" >/dev/null
    fi
    net_args=(--network "$lan" --ip "$ip") ;;
  *)
    net_args=(--network "$network")
    [ -n "$ip" ] && net_args+=(--ip "$ip") ;;
esac

# 3. the container
env_args=()
[ -n "$tz" ] && env_args+=(-e "TZ=$tz")
[ -n "$domain" ] && env_args+=(-e "KEA_KNOT_DOMAIN=$domain")
[ -n "$subnet" ] && env_args+=(-e "KEA_KNOT_SUBNET=$subnet")
[ -n "$address" ] && env_args+=(-e "KEA_KNOT_ADDRESS=$address")
[ -n "$interface" ] && env_args+=(-e "KEA_KNOT_INTERFACE=$interface")
for e in "${extra_env[@]}"; do env_args+=(-e "$e"); done
for f in "${env_files[@]}"; do env_args+=(--env-file "$f"); done

run "$engine" create --name "$name" \
  "${net_args[@]}" \
  --cap-add NET_RAW --cap-add NET_BIND_SERVICE \
  --restart "$restart" \
  --stop-timeout "$stop_timeout" \
  "${env_args[@]}" \
  "${create_extra[@]}" \
  -v "$name-etc-kea:/etc/kea" -v "$name-lib-kea:/var/lib/kea" \
  -v "$name-etc-knot:/etc/knot" -v "$name-lib-knot:/var/lib/knot" \
  "$image" >/dev/null

# 4. the systemd unit: systemd waits longer than `stop` does.
$write_unit || exit 0
after="network-online.target"
requires=''
if [ "$engine" = docker ]; then after="$after docker.service"; requires='Requires=docker.service'; fi
unit_text="# Written by kea-knot's scripts/createcontainer.sh for container $name ($engine).
[Unit]
Description=kea-knot DHCP and DNS (container $name)
Wants=network-online.target
After=$after
$requires

[Service]
Type=simple
ExecStart=$engine_path start --attach $name
ExecStop=$engine_path stop -t $stop_timeout $name
# Longer than the stop timeout above, itself longer than the supervisor's own grace:
# the daemons always get to flush their leases, zones and journal.
TimeoutStopSec=$((stop_timeout + 30))
# Exit 0 is a requested stop; 1 is a critical service that failed for good.
Restart=on-failure
RestartSec=5s

[Install]
WantedBy=multi-user.target
"
if $dry_run; then
  echo "# $unit"
  printf '%s' "$unit_text"
else
  printf '%s' "$unit_text" > "$unit"
  echo "wrote $unit; enable it with: systemctl daemon-reload && systemctl enable --now $(basename "$unit")"
fi
