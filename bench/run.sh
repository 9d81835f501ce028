#!/usr/bin/env bash
# Runs every Trellis benchmark on this machine and prints the figures that
# bench/README.md reports: OpenSSL baselines, the Merkle and storage suites
# (Google Benchmark), and the gRPC load generator against a real trellisd on
# loopback (temporary data directory, removed afterwards).
#
#   bench/run.sh [seconds of sustained load, default 20]
set -euo pipefail
cd "$(dirname "$0")/.."
load_seconds=${1:-20}
bazel build //bench:all //cmd/... >/dev/null 2>&1
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== $(date -u +%Y-%m-%dT%H:%MZ) $(nproc) cores, $(uname -r)"
echo "== openssl speed (baselines, same run)"
openssl speed -seconds 3 -bytes 64 sha256 2>/dev/null | tail -1
openssl speed -seconds 3 ecdsap256 2>/dev/null | tail -1

echo "== merkle_bench"
bazel-bin/bench/merkle_bench --benchmark_min_time=1 2>/dev/null
echo "== storage_bench"
bazel-bin/bench/storage_bench 2>/dev/null
echo "== attest_bench (in-process, evidence from a software TPM)"
bazel-bin/bench/attest_bench --benchmark_min_time=2 2>/dev/null | grep '^BM_'
echo "== rego_bench and gta_bench (in-process; GTA's sample evidence)"
(cd bazel-bin/bench/rego_bench.runfiles/trellis &&
  ../../rego_bench --benchmark_min_time=2 2>/dev/null | grep '^BM_')
(cd bazel-bin/bench/gta_bench.runfiles/trellis &&
  ../../gta_bench --benchmark_min_time=2 2>/dev/null | grep '^BM_')
echo "== map_bench (in-process, 1,000,000-leaf map)"
bazel-bin/bench/map_bench --map_leaves=1000000

echo "== loadgen against trellisd"
bazel-bin/cmd/trellisd/trellisd --data_dir="$work/data" --grpc_addr=127.0.0.1:0 \
  --port_file="$work/port" --spire_addr=127.0.0.1:0 --tlog_addr=127.0.0.1:0 \
  --tlog_port_file="$work/tlog_port" \
  --spire_port_file="$work/spire_port" 2>"$work/trellisd.log" &
pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
addr="127.0.0.1:$(cat "$work/port")"
bazel-bin/bench/loadgen --addr="$addr" --rate=50000 --duration="${load_seconds}s"
bazel-bin/bench/loadgen --addr="$addr" --duration=10s
# Single-entry writers (512 in flight), as Tessera's hammer loads it below.
bazel-bin/bench/loadgen --addr="$addr" --mode=leaf --clients=4 --inflight=128 \
  --duration=10s
fill=$(bazel-bin/bench/loadgen --addr="$addr" --total=1000000 --duration=120s)
echo "$fill"
tree=$(echo "$fill" | sed -n 's/^tree_id=//p')
sleep 5  # Let the compactions the fill triggered settle.
# Proofs, then the cheapest read under the same load as their baseline.
for mode in proofs roots; do
  for clients in 2 4; do
    bazel-bin/bench/loadgen --addr="$addr" --mode=$mode --tree_id="$tree" \
      --clients=$clients --inflight=16 --duration=10s
  done
done
tlog_addr="127.0.0.1:$(cat "$work/tlog_port")"
for clients in 2 4 8; do
  bazel-bin/bench/tiles_loadgen --tlog_addr="$tlog_addr" --tree_id="$tree" \
    --clients=$clients --duration=10s
done
echo "bytes on disk for the 1,000,000-leaf log: $(du -sb "$work/data" | cut -f1)"
map_fill=$(bazel-bin/bench/loadgen --addr="$addr" --mode=map_fill \
  --total=1000000 --batch=50000)
echo "$map_fill"
map=$(echo "$map_fill" | sed -n 's/^tree_id=//p')
for revision in -1 1; do
  bazel-bin/bench/loadgen --addr="$addr" --mode=map_proofs --tree_id="$map" \
    --total=1000000 --revision=$revision --clients=2 --inflight=16 --duration=10s
done

echo "== spire_loadgen against trellisd's SPIRE API (mTLS, as an agent)"
spire="127.0.0.1:$(cat "$work/spire_port")"
operator="unix:$work/data/operator.sock"
for mode in x509 jwt; do
  bazel-bin/bench/spire_loadgen --operator_addr="$operator" --spire_addr="$spire" \
    --mode=$mode --duration=10s
done
bazel-bin/bench/spire_loadgen --operator_addr="$operator" --spire_addr="$spire" \
  --mode=sync --entries=10000
bash bench/workload_agents.sh "$work/data/operator.sock" "$(cat "$work/spire_port")"

# The same load against upstream SPIRE's server, when scripts/build_peers.sh
# has built it: the comparison figures of bench/README.md.
upstream="${TRELLIS_PEERS_BIN:-$HOME/.cache/trellis/bin}/spire-server"
if [ -x "$upstream" ]; then
  echo "== spire_loadgen against upstream spire-server (same machine)"
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  mkdir -p "$work/upstream"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat > "$work/upstream/server.conf" <<CONF
server {
  bind_address = "127.0.0.1"
  bind_port = "$port"
  socket_path = "$work/upstream/api.sock"
  trust_domain = "example.org"
  data_dir = "$work/upstream"
  log_level = "WARN"
}
plugins {
  DataStore "sql" { plugin_data { database_type = "sqlite3" connection_string = "$work/upstream/datastore.sqlite3" } }
  KeyManager "memory" { plugin_data {} }
  NodeAttestor "join_token" { plugin_data {} }
}
CONF
  "$upstream" run -config "$work/upstream/server.conf" 2>"$work/upstream.log" &
  upid=$!
  for _ in $(seq 100); do
    "$upstream" healthcheck -socketPath "$work/upstream/api.sock" >/dev/null 2>&1 && break
    sleep 0.2
  done
  for mode in x509 jwt; do
    bazel-bin/bench/spire_loadgen --operator_addr="unix:$work/upstream/api.sock" \
      --spire_addr="127.0.0.1:$port" --mode=$mode --settle=6s --duration=10s
  done
  bazel-bin/bench/spire_loadgen --operator_addr="unix:$work/upstream/api.sock" \
    --spire_addr="127.0.0.1:$port" --mode=sync --entries=10000 --settle=6s
  kill "$upid" 2>/dev/null; wait "$upid" 2>/dev/null || true
fi

echo "== Tessera POSIX under its hammer (the single-entry baseline)"
bench/tessera.sh 10 512
