// C2SP transparency log policies (https://c2sp.org/tlog-policy): the logs
// a verifier accepts, the witnesses it knows, and the quorum of witness
// cosignatures a checkpoint needs ("log", "witness", "group", "quorum"
// lines), and the check of a checkpoint against them.
#ifndef TRELLIS_TLOG_POLICY_H_
#define TRELLIS_TLOG_POLICY_H_

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tlog/checkpoint.h"
#include "tlog/note.h"

namespace trellis::tlog {

// Beyond the spec's recommended minimum of 32 of each.
inline constexpr size_t kMaxPolicyEntries = 256;
inline constexpr size_t kMaxPolicyBytes = 64 << 10;

struct PolicyLog {
  NoteVerifierKey key;  // Type 0x01; its name is the log's origin.
  std::string url;
};

struct PolicyWitness {
  std::string name;
  NoteVerifierKey key;  // Type 0x04 (cosignature/v1).
  std::string url;      // The submission prefix, if given.
};

// A checkpoint that satisfied a policy.
struct VerifiedCheckpoint {
  Checkpoint checkpoint;
  std::string log_key_name;
  std::set<std::string> witnesses;  // Whose cosignatures verified.
};

class WitnessPolicy {
 public:
  // INVALID_ARGUMENT naming the line for anything the spec forbids: an
  // unknown keyword, a name used before it is defined or twice, a group
  // member listed twice or "none", a threshold outside 1..n, duplicate
  // keys, keys of the wrong type, a missing or second quorum line, control
  // characters other than tab.
  static absl::StatusOr<WitnessPolicy> Parse(absl::string_view text);

  const std::vector<PolicyLog>& logs() const { return logs_; }
  const std::vector<PolicyWitness>& witnesses() const { return witnesses_; }

  // True if the witnesses named in `cosigned` meet the quorum.
  bool QuorumMet(const std::set<std::string>& cosigned) const;

  // A signed checkpoint note verified against the policy: signed by one of
  // its logs (whose key name is the checkpoint's origin), cosigned to meet
  // the quorum. INVALID_ARGUMENT for a malformed note or a bad signature by
  // a known key, NOT_FOUND if no known log signed it, FAILED_PRECONDITION
  // if the quorum is not met.
  absl::StatusOr<VerifiedCheckpoint> Verify(absl::string_view note) const;

 private:
  struct Group {
    std::string name;
    int threshold = 0;
    std::vector<std::string> members;
  };

  std::vector<PolicyLog> logs_;
  std::vector<PolicyWitness> witnesses_;
  // In definition order: a group's members are all defined before it.
  std::vector<Group> groups_;
  std::string quorum_;  // A witness, a group or "none".
};

}  // namespace trellis::tlog

#endif  // TRELLIS_TLOG_POLICY_H_
