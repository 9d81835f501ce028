#!/usr/bin/env bash
# Build the real peers Trellis is tested against from the Go module proxy:
# the unmodified SPIRE agent and server, go-spiffe and Tessera clients
# (tests/peers), the omniwitness and litewitness witnesses, and OPA (the
# Rego reference). Everything (GOPATH, module cache, build cache, scratch
# modules, binaries) lives under $TRELLIS_CACHE (default ~/.cache/trellis),
# never in the repository, so CI runs on the same machine reuse it.
#
# Usage: scripts/build_peers.sh [--force]
#   --force   rebuild even if the version stamp matches
# Env: TRELLIS_CACHE (default ~/.cache/trellis), SPIRE_VERSION (default v1.13.3),
#      LEGACY_AGENT_VERSION (default v0.10.0: bin/spire-agent-v0.10.0, an agent
#      of the legacy node API), WITNESS_VERSION (omniwitness's pseudo-version),
#      TORCHWOOD_VERSION (default v0.6.1, litewitness), TESSERA_VERSION,
#      MERKLE_VERSION, XMOD_VERSION, FORMATS_VERSION, OPA_VERSION, GOTOOLCHAIN
#      (default local; go1.27.3 is tried only if a module needs it).
# Prints the directory that holds the binaries (…/bin) on its last line.
#
# Idempotent: when the binaries exist and their stamp names the wanted
# versions, it exits at once without touching the network.
set -euo pipefail

SPIRE_VERSION="${SPIRE_VERSION:-v1.13.3}"
# Only this toolchain may be fetched from the proxy (approved); used only if the
# installed Go is older than a module requires.
FALLBACK_TOOLCHAIN="go1.27.3"

FORCE=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "build_peers.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

# Go is preinstalled on these machines, not always on PATH.
command -v go >/dev/null || export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || { echo "build_peers: go is not installed" >&2; exit 1; }

CACHE="${TRELLIS_CACHE:-$HOME/.cache/trellis}"
BIN="$CACHE/bin"
export GOPATH="$CACHE/go"
export GOMODCACHE="$CACHE/go/pkg/mod"
export GOCACHE="$CACHE/go/build-cache"
export GOBIN="$BIN"
# Not a repo checkout: no VCS stamping; -trimpath keeps binaries path-independent.
export GOFLAGS="-buildvcs=false -trimpath -mod=mod"
export CGO_ENABLED="${CGO_ENABLED:-1}"   # spire-server's sqlite datastore needs cgo
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
mkdir -p "$BIN" "$GOMODCACHE" "$GOCACHE"

log() { echo "build_peers: $*" >&2; }

stamp_ok() {  # stamp_file expected_content binaries...
  local stamp="$1" want="$2"; shift 2
  [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] || return 1
  local b; for b in "$@"; do [[ -x "$BIN/$b" ]] || return 1; done
}

# go_build_tools DIR MODULE@VERSION PKG... : scratch module DIR, go get -tool, go install.
# The proxy lists no versions for spire (so `go install pkg@version` is refused);
# an exact version through `go get -tool` in a scratch module works.
go_build_tools() {
  local dir="$1" modver="$2"; shift 2
  mkdir -p "$dir"
  (
    cd "$dir"
    [[ -f go.mod ]] || go mod init peers >/dev/null 2>&1
    local p
    for p in "$@"; do
      if ! go get -tool "$p@${modver#*@}" 2>"$dir/get.err"; then
        if grep -qE 'requires go >=|toolchain not available|GOTOOLCHAIN=local' "$dir/get.err" \
            && [[ "$GOTOOLCHAIN" == local ]]; then
          log "module needs a newer Go than $(go env GOVERSION); retrying with GOTOOLCHAIN=$FALLBACK_TOOLCHAIN"
          export GOTOOLCHAIN="$FALLBACK_TOOLCHAIN"
          go get -tool "$p@${modver#*@}"
        else
          cat "$dir/get.err" >&2; exit 1
        fi
      fi
    done
    go install ${PEER_LDFLAGS:+-ldflags="$PEER_LDFLAGS"} "$@"
  )
}

# go_build_tools_once NAME DIR MODULE@VERSION PKG... : go_build_tools unless
# the binaries (the packages' last path elements) are built at that version.
go_build_tools_once() {
  local name="$1" dir="$2" want="$3"; shift 3
  local stamp="$BIN/.$name-stamp" bins=() p
  for p in "$@"; do bins+=("${p##*/}"); done
  if [[ $FORCE == 0 ]] && stamp_ok "$stamp" "$want" "${bins[@]}"; then
    log "$name ${want#*@} already built in $BIN"
    return
  fi
  log "building $name ${want#*@}"
  rm -f "$stamp"
  PEER_LDFLAGS="-s -w" go_build_tools "$dir" "$want" "$@"
  echo "$want" > "$stamp"
}

# ---------------------------------------------------------------- SPIRE
SPIRE_STAMP="$BIN/.spire-stamp"
SPIRE_WANT="github.com/spiffe/spire@$SPIRE_VERSION"
if [[ $FORCE == 0 ]] && stamp_ok "$SPIRE_STAMP" "$SPIRE_WANT" spire-agent spire-server; then
  log "spire $SPIRE_VERSION already built in $BIN"
else
  log "building spire-agent and spire-server $SPIRE_VERSION (first build takes several minutes)"
  rm -f "$SPIRE_STAMP"
  # Same linker flags as SPIRE's release Makefile: strip, and stamp the version
  # (without -X gittag the binaries report "1.13.3-dev-unk").
  PEER_LDFLAGS="-s -w -X github.com/spiffe/spire/pkg/common/version.gittag=${SPIRE_VERSION#v}" \
  go_build_tools "$CACHE/peers/spire-$SPIRE_VERSION" "github.com/spiffe/spire@$SPIRE_VERSION" \
    github.com/spiffe/spire/cmd/spire-agent github.com/spiffe/spire/cmd/spire-server
  # Sanity check: the binaries report the expected version (v1.13.3 -> 1.13.3).
  for b in spire-agent spire-server; do
    got="$("$BIN/$b" --version 2>&1 | head -1)"
    [[ "$got" == "${SPIRE_VERSION#v}" ]] || { log "unexpected $b version: $got"; exit 1; }
  done
  echo "$SPIRE_WANT" > "$SPIRE_STAMP"
fi

# ------------------------------------------------ SPIRE agent, legacy node API
# The last agents that speak spire.api.node.Node (trellisd's NodeService e2e
# test), as $BIN/spire-agent-<version> beside the current agent. Its own
# scratch module, and `go build -o` rather than `go install` (which would
# overwrite bin/spire-agent). spire@v0.10.0 alone resolves its proto/spire
# module to a 2019 pseudo-version without the Unimplemented*Server stubs the
# plugins need, so proto/spire is pinned to the same tag.
LEGACY_AGENT_VERSION="${LEGACY_AGENT_VERSION:-v0.10.0}"
LEGACY_AGENT="spire-agent-$LEGACY_AGENT_VERSION"
LEGACY_STAMP="$BIN/.$LEGACY_AGENT-stamp"
LEGACY_WANT="github.com/spiffe/spire@$LEGACY_AGENT_VERSION+proto/spire@$LEGACY_AGENT_VERSION"
if [[ $FORCE == 0 ]] && stamp_ok "$LEGACY_STAMP" "$LEGACY_WANT" "$LEGACY_AGENT"; then
  log "spire-agent $LEGACY_AGENT_VERSION already built in $BIN"
else
  log "building spire-agent $LEGACY_AGENT_VERSION (legacy node API; a few minutes without a module cache)"
  rm -f "$LEGACY_STAMP"
  legacy_dir="$CACHE/peers/$LEGACY_AGENT"
  mkdir -p "$legacy_dir"
  (
    cd "$legacy_dir"
    [[ -f go.mod ]] || go mod init peers >/dev/null 2>&1
    go get -tool "github.com/spiffe/spire/cmd/spire-agent@$LEGACY_AGENT_VERSION"
    go get "github.com/spiffe/spire/proto/spire@$LEGACY_AGENT_VERSION"
    # Same flags as the current agent (without -X gittag it reports
    # "0.10.0-dev-unk"); built aside, then renamed, so a failed build never
    # leaves a half-written binary behind.
    go build -ldflags="-s -w -X github.com/spiffe/spire/pkg/common/version.gittag=${LEGACY_AGENT_VERSION#v}" \
      -o "$BIN/$LEGACY_AGENT.tmp" github.com/spiffe/spire/cmd/spire-agent
    mv -f "$BIN/$LEGACY_AGENT.tmp" "$BIN/$LEGACY_AGENT"
  )
  got="$("$BIN/$LEGACY_AGENT" --version 2>&1 | head -1)"
  [[ "$got" == "${LEGACY_AGENT_VERSION#v}" ]] || { log "unexpected $LEGACY_AGENT version: $got"; exit 1; }
  echo "$LEGACY_WANT" > "$LEGACY_STAMP"
fi

# go_build_peer NAME SOURCE_DIR MODULE@VERSION... : a test peer of this
# repository (tests/peers/NAME/main.go) built in a scratch module against the
# given module versions, into $BIN/NAME; rebuilt when its source or the
# versions change.
go_build_peer() {
  local name="$1" src="$2/main.go"; shift 2
  local want stamp dir
  want="$*+$(sha256sum "$src" | cut -d' ' -f1)"
  stamp="$BIN/.$name-stamp"
  if [[ $FORCE == 0 ]] && stamp_ok "$stamp" "$want" "$name"; then
    log "$name already built in $BIN"
    return
  fi
  log "building $name ($*)"
  rm -f "$stamp"
  dir="$CACHE/peers/$name"
  mkdir -p "$dir"
  cp "$src" "$dir/main.go"
  (
    cd "$dir"
    [[ -f go.mod ]] || go mod init "$name" >/dev/null 2>&1
    go get "$@"
    go build -ldflags="-s -w" -o "$BIN/$name.tmp" .
    mv -f "$BIN/$name.tmp" "$BIN/$name"
  )
  echo "$want" > "$stamp"
}
PEERS_SRC="$(cd "$(dirname "$0")/.." && pwd)/tests/peers"

# ------------------------------------------------ go-spiffe Workload API client
# tests/peers/workload-check (go-spiffe v2's workloadapi).
GO_SPIFFE_VERSION="${GO_SPIFFE_VERSION:-v2.6.0}"
go_build_peer workload-check "$PEERS_SRC/workload-check" \
  "github.com/spiffe/go-spiffe/v2@$GO_SPIFFE_VERSION"

# ------------------------------------------------ tlog-check (C2SP formats)
# tests/peers/tlog-check: signed notes, cosignatures and tile paths by
# golang.org/x/mod/sumdb and transparency-dev/formats, the independent
# reference of tlog/ (tests/tlog_reference_test).
go_build_peer tlog-check "$PEERS_SRC/tlog-check" \
  "golang.org/x/mod@${XMOD_VERSION:-v0.37.0}" \
  "github.com/transparency-dev/formats@${FORMATS_VERSION:-v0.1.1}"

# ------------------------------------------------ tiles-check (tlog-tiles client)
# tests/peers/tiles-check: Trellis logs read as C2SP tlog-tiles by tessera's
# client and by x/mod's TileHashReader (tests/tlog_tiles_test).
go_build_peer tiles-check "$PEERS_SRC/tiles-check" \
  "github.com/transparency-dev/tessera@${TESSERA_VERSION:-v1.0.4}" \
  "github.com/transparency-dev/merkle@${MERKLE_VERSION:-v0.0.2}" \
  "golang.org/x/mod@${XMOD_VERSION:-v0.37.0}" \
  "github.com/transparency-dev/formats@${FORMATS_VERSION:-v0.1.1}"

# ------------------------------------------------ metrics-check (Prometheus)
# tests/peers/metrics-check: trellisd's /metrics parsed by the Prometheus
# scraper's parser (prometheus/common's expfmt) and linted as promtool does
# (client_golang's promlint) (tests/operations_e2e_test).
go_build_peer metrics-check "$PEERS_SRC/metrics-check" \
  "github.com/prometheus/common@${PROM_COMMON_VERSION:-v0.67.4}" \
  "github.com/prometheus/client_golang@${PROM_CLIENT_VERSION:-v1.23.2}" \
  "github.com/prometheus/client_model@${PROM_MODEL_VERSION:-v0.6.2}"

# ------------------------------------------------ omniwitness (tlog-witness)
# transparency-dev/witness's omniwitness and its key tool: a real witness
# that cosigns Trellis checkpoints and refuses forks (tests/tlog_witness_test).
# The repository has no tags; this is the proxy's latest pseudo-version.
WITNESS_VERSION="${WITNESS_VERSION:-v0.0.0-20260720115447-2e1c6971d19e}"
go_build_tools_once omniwitness "$CACHE/peers/witness" \
  "github.com/transparency-dev/witness@$WITNESS_VERSION" \
  github.com/transparency-dev/witness/cmd/omniwitness \
  github.com/transparency-dev/witness/cmd/generate_keys

# ------------------------------------------------ litewitness (tlog-witness)
# torchwood's litewitness and witnessctl: a second, independent witness
# (SQLite state, its key in an ssh-agent) that cosigns Trellis checkpoints
# and refuses forks (tests/tlog_witness_test).
go_build_tools_once litewitness "$CACHE/peers/torchwood" \
  "filippo.io/torchwood@${TORCHWOOD_VERSION:-v0.6.1}" \
  filippo.io/torchwood/cmd/litewitness \
  filippo.io/torchwood/cmd/witnessctl

# ------------------------------------------------ OPA (the Rego reference)
# The Rego engine's results are checked against OPA's on the same policies
# and inputs (policy/rego_conformance_test).
OPA_VERSION="${OPA_VERSION:-v1.22.3}"
OPA_STAMP="$BIN/.opa-stamp"
OPA_WANT="github.com/open-policy-agent/opa@$OPA_VERSION"
if [[ $FORCE == 0 ]] && stamp_ok "$OPA_STAMP" "$OPA_WANT" opa; then
  log "opa $OPA_VERSION already built in $BIN"
else
  log "building opa $OPA_VERSION"
  rm -f "$OPA_STAMP"
  opa_dir="$CACHE/peers/opa-$OPA_VERSION"
  mkdir -p "$opa_dir"
  (
    cd "$opa_dir"
    [[ -f go.mod ]] || go mod init opa-peer >/dev/null 2>&1
    go get "github.com/open-policy-agent/opa@$OPA_VERSION"
    CGO_ENABLED=0 go build -ldflags="-s -w" -o "$BIN/opa.tmp" github.com/open-policy-agent/opa
    mv -f "$BIN/opa.tmp" "$BIN/opa"
  )
  echo "$OPA_WANT" > "$OPA_STAMP"
fi

# Not built here: github.com/bloomberg/spire-tpm-plugin. The module proxy serves
# no version of it (403 "not available"), and it is a SPIRE v0.10 (legacy v0
# plugin API) external plugin that SPIRE >= 1.x refuses to load anyway. SPIRE
# 1.13.3's own TPM attestor is the built-in "tpm_devid" NodeAttestor.

echo "$BIN"
