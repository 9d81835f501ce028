#!/usr/bin/env bash
# Installs what is missing and runs the whole test suite: unit tests beside
# the code, the end-to-end tests in tests/ (real trellisd, trellis-tpm and
# swtpm processes on loopback with temporary data directories), then every
# libFuzzer target briefly under ASan/UBSan (FUZZ_SECONDS each, default 10;
# 0 skips them).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
log=$(mktemp)
bazel test //... "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -cE '^//.* PASSED in' "$log")
failed=$(grep -cE '^//.* (FAILED|TIMEOUT|NO STATUS)' "$log")
rm -f "$log"
echo "tests: ${passed} passed, ${failed} failed"
fuzz_seconds=${FUZZ_SECONDS:-10}
if [ "$fuzz_seconds" -gt 0 ]; then
  if ! bash scripts/fuzz.sh "$fuzz_seconds"; then
    echo "fuzz: a target crashed"
    status=1
  fi
fi
exit "$status"
