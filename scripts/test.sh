#!/usr/bin/env bash
# Installs what is missing and runs the whole test suite: unit tests beside
# the code, the end-to-end tests in tests/ (real trellisd, trellis-tpm and
# swtpm processes on loopback with temporary data directories), then the
# libraries and the fast unit and parser tests again with clang, ASan/UBSan
# and -Werror=thread-safety (SANITIZER_TESTS=0 skips this), then every
# libFuzzer target briefly under ASan/UBSan (FUZZ_SECONDS each, default 10;
# 0 skips them).
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1
# Build outputs are shared through a disk cache keyed by content, so a
# fresh clone (a new output base) rebuilds only what changed. Kept under
# 40 GiB by starting over when it grows past that.
disk_cache="${HOME}/.cache/trellis/bazel-disk"
if [ -d "$disk_cache" ] && [ "$(du -s --block-size=1G "$disk_cache" | cut -f1)" -gt 40 ]; then
  rm -rf "$disk_cache"
fi
log=$(mktemp)
bazel test --disk_cache="$disk_cache" //... "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -cE '^//.* PASSED in' "$log")
failed=$(grep -cE '^//.* (FAILED|TIMEOUT|NO STATUS)' "$log")
rm -f "$log"
echo "tests: ${passed} passed, ${failed} failed"
# The browser explorer in Debian's Chromium (playwright-core) against a real
# trellisd (EXPLORER_SCREENSHOTS=docs/explorer refreshes the screenshots).
if ! node --test tests/explorer/explorer_test.mjs tests/explorer/chain_test.mjs; then
  echo "explorer: the browser test failed"
  status=1
fi
# The Debian package, installed, run, upgraded and removed in a Debian 12
# chroot (tests/package/install_test.sh; root only).
if [ "$(id -u)" = 0 ]; then
  if ! bash tests/package/install_test.sh; then
    echo "package: the package test failed"
    status=1
  fi
else
  echo "package: test skipped (it needs root for its chroot)"
fi
# //cmd/... builds trellisd, trellis and trellis-tpm, so every library is
# compiled by clang with the thread-safety analysis; the tests are the unit
# and parser tests that take seconds (no end-to-end ones, none that run
# long TPM sequences on swtpm).
sanitizer_targets=(
  //util/... //crypto/... //admin/... //merkle/... //log/... //map/...
  //storage/... //spiffe/... //ca/... //identity/... //agent/...
  //attest/tpm/... //attest/ima/... //attest/eventlog/... //attest/keylime/...
  //attest/verifier:evidence_request_test //attest/verifier:nonce_store_test
  //attest/verifier:evidence_fuzzer_smoke //policy/... //gta/... //cmd/...
  //tlog/... //witness/... //quota/...
)
if [ "${SANITIZER_TESTS:-1}" != 0 ]; then
  if ! bazel --output_base="${HOME}/.cache/trellis-fuzz" test --config=asan \
      --disk_cache="$disk_cache" "${sanitizer_targets[@]}"; then
    echo "asan: the clang build or a sanitized test failed"
    status=1
  fi
fi
fuzz_seconds=${FUZZ_SECONDS:-10}
if [ "$fuzz_seconds" -gt 0 ]; then
  if ! bash scripts/fuzz.sh "$fuzz_seconds"; then
    echo "fuzz: a target crashed"
    status=1
  fi
else
  # scripts/fuzz.sh stops the clang build's server; without it, stop it here.
  bazel --output_base="${HOME}/.cache/trellis-fuzz" shutdown >/dev/null 2>&1 || true
fi
exit "$status"
