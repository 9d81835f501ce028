#!/usr/bin/env bash
# Installs what is missing, builds trellisd and the trellis CLI, and starts
# trellisd in the foreground: embedded RocksDB under ./trellis-data, gRPC on
# 127.0.0.1:8090. Extra arguments go to trellisd (see --help).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bazel build //cmd/trellisd //cmd/trellis
echo "CLI: $(pwd)/bazel-bin/cmd/trellis/trellis"
explorer=()
if [ -f explorer/dist/index.html ]; then
  explorer=(--explorer_dir=explorer/dist)
  echo "Explorer: http://127.0.0.1:8091/explorer/ (the tiles listener)"
fi
exec bazel-bin/cmd/trellisd/trellisd --data_dir=trellis-data "${explorer[@]}" "$@"
