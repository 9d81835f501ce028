#!/usr/bin/env bash
# Builds every libFuzzer target with clang, AddressSanitizer and UBSan, and
# runs each for a while from its seeds. Exits non-zero if any target finds
# a crash (the reproducer is left in the work directory).
#
#   scripts/fuzz.sh [seconds per target, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
targets=(
  //attest/tpm:structures_fuzzer
  //attest/keylime:formats_fuzzer
  //attest/verifier:evidence_fuzzer
  //merkle/smt:tile_fuzzer
  //merkle:log_root_fuzzer
  //attest/ima:measurement_list_fuzzer
  //attest/eventlog:event_log_fuzzer
  //spiffe:bundle_document_fuzzer
  //tlog:formats_fuzzer
  //storage/rocksdb:records_fuzzer
)
declare -A seeds=(
  [//attest/tpm:structures_fuzzer]=testdata/fuzz_seeds/tpm
  [//attest/keylime:formats_fuzzer]=testdata/fuzz_seeds/keylime
  [//attest/verifier:evidence_fuzzer]=testdata/fuzz_seeds/evidence
  [//merkle/smt:tile_fuzzer]=testdata/fuzz_seeds/tile
  [//merkle:log_root_fuzzer]=testdata/fuzz_seeds/log_root
  [//attest/ima:measurement_list_fuzzer]=testdata/fuzz_seeds/ima
  [//attest/eventlog:event_log_fuzzer]=testdata/fuzz_seeds/eventlog
  [//spiffe:bundle_document_fuzzer]=testdata/fuzz_seeds/spiffe_bundle
  [//tlog:formats_fuzzer]=testdata/fuzz_seeds/tlog
  [//storage/rocksdb:records_fuzzer]=testdata/fuzz_seeds/storage
)
base="${HOME}/.cache/trellis-fuzz"
bazel_fuzz() { bazel --output_base="$base" "$@"; }
cache=(--disk_cache="${HOME}/.cache/trellis/bazel-disk")
bazel_fuzz build --config=fuzz "${cache[@]}" --symlink_prefix=/ "${targets[@]}" >/dev/null 2>&1 ||
  bazel_fuzz build --config=fuzz "${cache[@]}" --symlink_prefix=/ "${targets[@]}"
bin=$(bazel_fuzz info --config=fuzz bazel-bin 2>/dev/null)
work=$(mktemp -d)
trap 'bazel_fuzz shutdown >/dev/null 2>&1 || true' EXIT
failed=0
for target in "${targets[@]}"; do
  path="${target#//}"
  binary="$bin/${path/://}"
  corpus="$work/${path//[\/:]/_}"
  mkdir -p "$corpus"
  if [ -n "${seeds[$target]:-}" ]; then cp "${seeds[$target]}"/* "$corpus/"; fi
  if (cd "$work" && TSS2_LOG=all+NONE "$binary" -max_total_time="$seconds" \
      -max_len=4096 -print_final_stats=1 "$corpus" >"$corpus.log" 2>&1); then
    echo "fuzz: $target: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$corpus.log" | grep -o '[0-9]*$') runs, no crash"
  else
    echo "fuzz: $target: CRASH (log: $corpus.log)"
    tail -30 "$corpus.log"
    failed=1
  fi
done
exit $failed
