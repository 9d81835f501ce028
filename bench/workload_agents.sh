#!/usr/bin/env bash
# The Workload API load of bench/README.md: trellis-agent and (if built by
# scripts/build_peers.sh) upstream spire-agent, both attested to the same
# running trellisd with their own join tokens and three entries for this
# user, each loaded by bench/workload_loadgen (first FetchX509SVID responses
# from the agent's cache).
#
#   bench/workload_agents.sh OPERATOR_SOCKET SPIRE_PORT [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
operator="$1"
spire_port="$2"
seconds="${3:-10}"
source bench/work_dir.sh
cli=(bazel-bin/cmd/trellis/trellis "--addr=unix:$operator")
"${cli[@]}" spire bundle show > "$work/bundle.pem"
upstream="${TRELLIS_PEERS_BIN:-$HOME/.cache/trellis/bin}/spire-agent"
for who in trellis spire; do
  if [ "$who" = spire ] && [ ! -x "$upstream" ]; then break; fi
  token=$("${cli[@]}" spire token generate --ttl=600 | sed -n 's/^Token: //p')
  for i in 1 2 3; do
    "${cli[@]}" spire entry create \
      --parent_id "spiffe://example.org/spire/agent/join_token/$token" \
      --spiffe_id "spiffe://example.org/$who/w$i" \
      --selector "unix:uid:$(id -u)" >/dev/null
  done
  mkdir -p "$work/$who"
  cat > "$work/$who/agent.conf" <<CONF
agent {
  trust_domain = "example.org"
  server_address = "127.0.0.1"
  server_port = "$spire_port"
  data_dir = "$work/$who"
  socket_path = "$work/$who.sock"
  trust_bundle_path = "$work/bundle.pem"
  log_level = "WARN"
}
plugins {
  NodeAttestor "join_token" { plugin_data {} }
  KeyManager "memory" { plugin_data {} }
  WorkloadAttestor "unix" { plugin_data {} }
}
CONF
  if [ "$who" = trellis ]; then
    bazel-bin/cmd/trellis-agent/trellis-agent run -config "$work/$who/agent.conf" \
      --join_token "$token" 2>"$work/$who.log" &
  else
    "$upstream" run -config "$work/$who/agent.conf" -joinToken "$token" \
      >"$work/$who.log" 2>&1 &
  fi
  pids+=($!)
  for _ in $(seq 300); do  # Until the agent serves its SVIDs.
    bazel-bin/bench/workload_loadgen --socket="$work/$who.sock" --clients=1 \
      --duration=0.2s >/dev/null 2>&1 && break
    sleep 0.2
  done
  echo "== $who-agent Workload API (8 clients)"
  bazel-bin/bench/workload_loadgen --socket="$work/$who.sock" --clients=8 \
    --duration="${seconds}s"
done
