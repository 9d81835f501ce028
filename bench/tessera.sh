#!/usr/bin/env bash
# Tessera's POSIX conformance server loaded by its own hammer, as the
# baseline for single-entry writes (bench/README.md): builds both from the
# Go module proxy into ~/.cache/trellis/bench-bin once, then for each writer
# count runs the server on a fresh directory (on this disk, loopback) and
# reports entries/s from its checkpoint sizes SECONDS apart, with the
# server's CPU per entry.
#
#   bench/tessera.sh [SECONDS, default 10] [WRITERS... default 512 1024]
set -euo pipefail
seconds=${1:-10}
shift || true
writers=("$@")
[ ${#writers[@]} -gt 0 ] || writers=(512 1024)
version=v1.0.4
bin="$HOME/.cache/trellis/bench-bin"
if [ ! -x "$bin/posix" ] || [ ! -x "$bin/hammer" ]; then
  mkdir -p "$bin"
  GOBIN="$bin" go install "github.com/transparency-dev/tessera/cmd/conformance/posix@$version"
  GOBIN="$bin" go install "github.com/transparency-dev/tessera/internal/hammer@$version"
fi
source "$(dirname "$0")/work_dir.sh"

# An Ed25519 note key (C2SP signed-note): name+hash+base64(0x01 || key).
vkey=$(python3 - "$work/key" <<'PY'
import base64, hashlib, sys
from cryptography.hazmat.primitives import serialization as s
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
name = "example.com/tessera-bench"
key = Ed25519PrivateKey.generate()
seed = key.private_bytes(s.Encoding.Raw, s.PrivateFormat.Raw, s.NoEncryption())
pub = key.public_key().public_bytes(s.Encoding.Raw, s.PublicFormat.Raw)
tag = hashlib.sha256(name.encode() + b"\n\x01" + pub).digest()[:4].hex()
open(sys.argv[1], "w").write(
    f"PRIVATE+KEY+{name}+{tag}+" + base64.b64encode(b"\x01" + seed).decode())
print(f"{name}+{tag}+" + base64.b64encode(b"\x01" + pub).decode())
PY
)
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
size() { sed -n 2p "$1/checkpoint"; }
for n in "${writers[@]}"; do
  dir="$work/log-$n"
  port=$((20000 + RANDOM % 20000))
  "$bin/posix" --listen="127.0.0.1:$port" --storage_dir="$dir" \
    --private_key="$work/key" 2>"$work/posix-$n.log" &
  server=$!
  pids+=("$server")
  for _ in $(seq 100); do [ -s "$dir/checkpoint" ] && break; sleep 0.1; done
  "$bin/hammer" --log_url="file://$dir/" --write_log_url="http://127.0.0.1:$port/" \
    --log_public_key="$vkey" --num_writers="$n" --leaf_min_size=100 \
    --max_write_ops=1000000 --dup_chance=0 --num_readers_full=0 \
    --num_readers_random=0 --show_ui=false --max_runtime=$((seconds + 15))s \
    >"$work/hammer-$n.log" 2>&1 &
  hammer=$!
  pids+=("$hammer")
  sleep 5  # Let the writers start.
  s0=$(size "$dir"); c0=$(cpu "$server"); t0=$(date +%s.%N)
  sleep "$seconds"
  s1=$(size "$dir"); c1=$(cpu "$server"); t1=$(date +%s.%N)
  kill "$hammer" "$server" 2>/dev/null || true
  wait "$hammer" "$server" 2>/dev/null || true
  python3 -c "n = $s1 - $s0; t = $t1 - $t0; print(f'tessera posix: writers=$n entries={n} in {t:.1f}s -> {n / t:.0f} entries/s; server cpu {($c1 - $c0) * 1e6 / 100 / max(n, 1):.1f} us/entry')"
done
