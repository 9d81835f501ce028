#!/usr/bin/env bash
# The Debian package as a user meets it: built by scripts/package.sh, its
# systemd units checked by systemd-analyze verify, installed with dpkg into
# a Debian 12 chroot (debootstrap; cached under ~/.cache/trellis), trellisd
# started as its unit's ExecStart, User and UMask say, written to, upgraded
# to a newer package over the same data directory, started again, then
# removed and purged without touching the logs. The machine itself is left
# as it was. Needs root (chroot, mount namespaces); scripts/test.sh runs it
# after the build.
set -euo pipefail
cd "$(dirname "$0")/../.."

mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache_dir=${XDG_CACHE_HOME:-$HOME/.cache}/trellis
work=$(mktemp -d /tmp/trellis-package.XXXXXX)
root=$work/root
pid=""

fail() {
  echo "package test: FAIL: $*" >&2
  [ -f "$work/trellisd.log" ] && tail -20 "$work/trellisd.log" >&2
  exit 1
}
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Runs a command inside the chroot as USER (uid:gid), with /proc and /dev
# mounted in a mount namespace of its own: the mounts end with the command,
# and the command keeps this process's PID (each step execs the next).
in_root_as() {
  local spec=$1
  shift
  exec unshare --mount --propagation private -- sh -c '
    root=$1; spec=$2; shift 2
    umask 0077
    mount -t proc proc "$root/proc" && mount --rbind /dev "$root/dev" &&
      exec chroot --userspec="$spec" "$root" "$@"' sh "$root" "$spec" "$@"
}
as_root() { (in_root_as 0:0 "$@"); }
# Operators run the CLI as root (or as trellis): the socket is 0600.
trellis_cli() { as_root env HOME=/root /usr/bin/trellis --addr=unix:/var/lib/trellis/operator.sock "$@"; }
tree_size() {
  trellis_cli log root "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["treeSize"])'
}

start_trellisd() {
  local unit=$root/lib/systemd/system/trellisd.service
  local exec_start user
  exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
  user=$(sed -n 's/^User=//p' "$unit")
  [ "$user" = trellis ] || fail "the unit runs as \"$user\""
  rm -f "$root/var/lib/trellis/grpc.port"
  # shellcheck disable=SC2086  # ExecStart's words, as systemd splits them
  (in_root_as "$trellis_ids" $exec_start) >>"$work/trellisd.log" 2>&1 &
  pid=$!
  for _ in $(seq 600); do
    [ -s "$root/var/lib/trellis/grpc.port" ] && return 0
    kill -0 "$pid" 2>/dev/null || fail "trellisd exited at start"
    sleep 0.1
  done
  fail "trellisd did not start"
}
stop_trellisd() {
  kill -TERM "$pid"
  local status=0
  wait "$pid" || status=$?
  pid=""
  [ "$status" = 0 ] || fail "trellisd exited $status on SIGTERM"
}

echo "package test: building two versions of the package"
v1=$(scripts/package.sh --no-build --compression=gzip --version=1.0.0~test1 --out="$work/dist")
v2=$(scripts/package.sh --no-build --compression=gzip --version=1.0.0~test2 --out="$work/dist")

# A Debian 12 system with the package's dependencies (and systemd, for
# systemd-analyze), made once per dependency list.
depends=$(dpkg-deb -f "$v1" Depends | tr ',' '\n' | sed 's/(.*)//; s/ //g' |
  grep -v '^$' | sort -u | paste -sd, -)
key=$(printf 'bookworm systemd %s\n' "$depends" | sha256sum | cut -c1-16)
seed=$cache_dir/package-root-$key.tar
if [ ! -f "$seed" ]; then
  echo "package test: debootstrap bookworm (once; cached in $seed)"
  mkdir -p "$cache_dir"
  debootstrap --variant=minbase --include="systemd,$depends" bookworm \
    "$work/seed" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log" >&2; fail "debootstrap"; }
  tar -C "$work/seed" -cf "$seed.tmp" . && mv "$seed.tmp" "$seed"
  rm -rf "$work/seed"
  # Seeds of older dependency lists are not needed again.
  find "$cache_dir" -maxdepth 1 -name 'package-root-*.tar' ! -name "${seed##*/}" -delete
fi
mkdir "$root"
tar -C "$root" -xf "$seed"
cp "$v1" "$v2" "$root/tmp/"

echo "package test: install"
as_root dpkg -i "/tmp/$(basename "$v1")" >"$work/dpkg.log" 2>&1 ||
  { cat "$work/dpkg.log" >&2; fail "dpkg -i"; }
trellis_ids="$(as_root id -u trellis):$(as_root id -g trellis)"
trellis_gid=${trellis_ids#*:}
# Numeric: the chroot's users are not this machine's.
[ "$(stat -c '%u:%g %a' "$root/var/lib/trellis")" = "$trellis_ids 750" ] ||
  fail "/var/lib/trellis is $(stat -c '%u:%g %a' "$root/var/lib/trellis")"
[ "$(stat -c '%u:%g %a' "$root/etc/trellis/kek")" = "0:$trellis_gid 640" ] ||
  fail "the key-encryption key is $(stat -c '%u:%g %a' "$root/etc/trellis/kek")"
grep -qE '^[0-9a-f]{64}$' "$root/etc/trellis/kek" || fail "the key is not 64 hex digits"
as_root getent passwd trellis | grep -q ':/var/lib/trellis:/usr/sbin/nologin$' ||
  fail "the trellis user"
[ "$(stat -c '%u:%g %a' "$root/var/log/trellis")" = "$trellis_ids 750" ] ||
  fail "/var/log/trellis is $(stat -c '%u:%g %a' "$root/var/log/trellis")"

# The units as systemd reads them on this system, with the binaries
# installed (warnings are failures).
verify=$(as_root systemd-analyze verify --man=no /lib/systemd/system/trellisd.service \
  /lib/systemd/system/trellis-tpm.service /lib/systemd/system/trellis-agent.service 2>&1) ||
  fail "systemd-analyze verify: $verify"
[ -z "$verify" ] || fail "systemd-analyze verify: $verify"
for option in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes \
  PrivateTmp=yes StateDirectory=trellis CapabilityBoundingSet=; do
  grep -qx "$option" "$root/lib/systemd/system/trellisd.service" ||
    fail "trellisd.service lacks $option"
done

# The operator's own settings: free ports, what the test does not use off.
cat >>"$root/etc/trellis/trellisd.toml" <<'CONF'
log_file = "/var/log/trellis/trellisd.log"
grpc_addr = "127.0.0.1:0"
port_file = "/var/lib/trellis/grpc.port"
tlog_addr = "127.0.0.1:0"
tlog_port_file = "/var/lib/trellis/tlog.port"
metrics_addr = ""
verifier_addr = ""
spire_addr = ""
CONF

echo "package test: start trellisd as its unit would, write"
start_trellisd
[ "$(stat -c '%u:%g %a' "$root/var/lib/trellis/operator.sock")" = "$trellis_ids 600" ] ||
  fail "operator socket is $(stat -c '%u:%g %a' "$root/var/lib/trellis/operator.sock")"
tree=$(trellis_cli tree create --name=package-test |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["treeId"])')
trellis_cli log append "$tree" first second third --wait >/dev/null
[ "$(tree_size "$tree")" = 3 ] || fail "size $(tree_size "$tree") after 3 leaves"
stop_trellisd
grep -q ' info trellisd: serving ' "$root/var/log/trellis/trellisd.log" ||
  fail "no log in /var/log/trellis/trellisd.log"
kek_before=$(sha256sum <"$root/etc/trellis/kek")

echo "package test: upgrade over the data directory"
as_root dpkg -i --force-confold "/tmp/$(basename "$v2")" >"$work/dpkg.log" 2>&1 ||
  { cat "$work/dpkg.log" >&2; fail "dpkg -i (upgrade)"; }
[ "$(as_root dpkg-query -W -f='${Version}' trellis)" = 1.0.0~test2 ] || fail "not upgraded"
grep -q '^port_file = "/var/lib/trellis/grpc.port"$' "$root/etc/trellis/trellisd.toml" ||
  fail "the upgrade replaced the operator's configuration"
[ "$(sha256sum <"$root/etc/trellis/kek")" = "$kek_before" ] || fail "the upgrade replaced the key"
start_trellisd
[ "$(tree_size "$tree")" = 3 ] || fail "size $(tree_size "$tree") after the upgrade"
trellis_cli log append "$tree" fourth --wait >/dev/null
[ "$(tree_size "$tree")" = 4 ] || fail "no writes after the upgrade"
trellis_cli log prove "$tree" --value=second >/dev/null || fail "no proof after the upgrade"
# The explorer's pages and API on the tiles listener.
tlog_port=$(cat "$root/var/lib/trellis/tlog.port")
curl -sf "http://127.0.0.1:$tlog_port/explorer/" | grep -q '<title>Trellis explorer</title>' ||
  fail "the explorer's page is not served"
curl -sf "http://127.0.0.1:$tlog_port/explorer/api/trees" | grep -q "\"treeId\":\"$tree\"" ||
  fail "the explorer's API does not list the log"
stop_trellisd

echo "package test: remove and purge"
as_root dpkg -r trellis >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -r"; }
[ ! -e "$root/usr/bin/trellisd" ] || fail "trellisd left after remove"
[ -f "$root/etc/trellis/trellisd.toml" ] || fail "remove took the configuration"
[ -f "$root/etc/logrotate.d/trellis" ] || fail "remove took the logrotate file"
as_root dpkg -P trellis >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log" >&2; fail "dpkg -P"; }
[ ! -e "$root/etc/trellis/trellisd.toml" ] || fail "purge left the configuration"
[ -f "$root/etc/trellis/kek" ] && [ -d "$root/var/lib/trellis" ] &&
  [ -n "$(ls -A "$root/var/lib/trellis")" ] || fail "purge took the logs or their key"
echo "package test: passed"
