// A main for libFuzzer targets in ordinary test builds: runs the target on
// its seed files (the arguments) and on many deterministic mutations of
// them, so every `bazel test` exercises the parsers' error paths. The
// coverage-guided, sanitized runs are scripts/fuzz.sh.
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::string Mutate(std::string input, std::mt19937_64& rng) {
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits; ++e) {
    switch (rng() % 5) {
      case 0:  // Flip a bit.
        if (!input.empty()) input[rng() % input.size()] ^= 1 << (rng() % 8);
        break;
      case 1:  // Truncate.
        input.resize(input.empty() ? 0 : rng() % input.size());
        break;
      case 2:  // Insert a byte.
        input.insert(input.begin() + (input.empty() ? 0 : rng() % input.size()),
                     static_cast<char>(rng()));
        break;
      case 3:  // Overwrite with an extreme value.
        if (!input.empty()) {
          input[rng() % input.size()] = (rng() % 2) ? '\xff' : '\0';
        }
        break;
      default:  // Duplicate a slice.
        if (!input.empty()) {
          const size_t at = rng() % input.size();
          input.insert(at, input.substr(at, rng() % 16));
        }
    }
  }
  return input;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> seeds;
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    seeds.emplace_back(std::istreambuf_iterator<char>(in),
                       std::istreambuf_iterator<char>());
  }
  std::mt19937_64 rng(20261123);
  int runs = 0;
  for (const std::string& seed : seeds) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(seed.data()),
                           seed.size());
    ++runs;
  }
  for (int i = 0; i < 30000; ++i, ++runs) {
    std::string input;
    if (!seeds.empty() && rng() % 4 != 0) {
      input = Mutate(seeds[rng() % seeds.size()], rng);
    } else {
      input.resize(rng() % 600);
      for (char& c : input) c = static_cast<char>(rng());
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()),
                           input.size());
  }
  std::printf("%d inputs, %zu seeds: no crash\n", runs, seeds.size());
  return 0;
}
