// transparency-dev/merkle's published proof vectors (testdata/merkle), each
// run through what `trellis verify-proof` does: ParseProofFile on the JSON,
// then VerifyProofFile. Valid vectors must verify; invalid ones must parse
// (a well-formed wrong proof exits 1, not 2) and fail to verify.
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cmd/trellis/proof_file.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "util/file.h"
#include "util/json_fields.h"

namespace trellis::cli {
namespace {

using nlohmann::json;

// A runfile: tests run from the workspace's runfiles root.
constexpr char kVectors[] = "testdata/merkle/proof_vectors.json";

TEST(ProofVectorsTest, AgreesWithTransparencyDevMerkle) {
  absl::StatusOr<std::string> text = ReadFile(kVectors);
  ASSERT_TRUE(text.ok()) << text.status();
  const json vectors = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(vectors.is_array());
  ASSERT_EQ(vectors.size(), 196u);  // 98 inclusion + 98 consistency files.
  int valid = 0;
  int null_proofs = 0;
  for (const json& vector : vectors) {
    absl::StatusOr<std::string> why = json_fields::String(vector, "why");
    ASSERT_TRUE(why.ok()) << why.status();
    absl::StatusOr<std::optional<bool>> want =
        json_fields::OptionalBool(vector, "valid");
    ASSERT_TRUE(want.ok() && want->has_value()) << *why;
    const json* proof = json_fields::Find(vector, "proof");
    if (proof == nullptr) ++null_proofs;  // Find() treats null as absent.
    // The vector is a proof file as it stands ("valid" and "why" are extra
    // members the parser ignores).
    absl::StatusOr<ProofFile> file = ParseProofFile(vector.dump());
    ASSERT_TRUE(file.ok()) << *why << ": " << file.status();
    const absl::Status verified = VerifyProofFile(*file);
    if (**want) {
      ++valid;
      EXPECT_TRUE(verified.ok()) << *why << ": " << verified;
    } else {
      EXPECT_FALSE(verified.ok()) << *why;
    }
  }
  EXPECT_EQ(valid, 12);
  EXPECT_EQ(null_proofs, 10);
}

}  // namespace
}  // namespace trellis::cli
