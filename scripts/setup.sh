#!/usr/bin/env bash
# Installs every Debian package Trellis needs to build, test and run, builds
# the Rego engine (scripts/build_rego.sh), the test peers
# (scripts/build_peers.sh) and the browser explorer (scripts/build_explorer.sh).
# Idempotent: packages already installed are skipped, apt runs only if something is missing.
set -euo pipefail

PACKAGES=(
  # build
  bazel-bootstrap g++ clang-format
  # gRPC / protobuf
  libgrpc++-dev libgrpc-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  # storage, crypto, common libraries
  librocksdb-dev libsnappy-dev liblz4-dev libzstd-dev libbz2-dev zlib1g-dev
  libjemalloc-dev libssl-dev libabsl-dev nlohmann-json3-dev
  libcpp-httplib-dev libboost1.81-dev libre2-dev
  # configuration files (TOML) and Prometheus metrics
  libtomlplusplus-dev prometheus-cpp-dev
  # packaging and its install test (a Debian chroot); the CLI's zsh completion test
  dpkg-dev debootstrap zsh
  # the browser explorer's end-to-end test (playwright-core drives it)
  chromium
  # TPM (later issues) and its software TPM for tests
  libtss2-dev swtpm swtpm-tools tpm2-tools
  # tests, benchmarks, fuzzing
  libgtest-dev libgmock-dev libbenchmark-dev clang libfuzzer-14-dev libclang-rt-14-dev
  # tools used by tests and benchmarks
  openssl python3 curl python3-cryptography python3-jwt
  # litewitness (tests/tlog_witness_test) keeps its key in an ssh-agent
  openssh-client
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages already installed"
else
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The Rego engine (regorus, Rust) as a static library for the build.
bash "$(dirname "$0")/build_rego.sh"

# Real peers for end-to-end tests (spire-agent, spire-server), built from the
# Go module proxy into ~/.cache/trellis once; later runs return at once.
bash "$(dirname "$0")/build_peers.sh" >/dev/null

# The browser explorer (TypeScript, Vite) into explorer/dist, which
# trellisd serves with --explorer_dir. Without it (no recent Node.js, or
# npm's registry out of reach) trellisd still runs, serving its API only.
if ! bash "$(dirname "$0")/build_explorer.sh" >/dev/null; then
  echo "setup: the browser explorer was not built (see above); trellisd" \
    "serves its JSON API without the pages" >&2
fi
