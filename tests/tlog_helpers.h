// Shared steps of the tlog-tiles end-to-end tests: logs made over gRPC,
// leaves queued, and checkpoints awaited over HTTP.
#ifndef TRELLIS_TESTS_TLOG_HELPERS_H_
#define TRELLIS_TESTS_TLOG_HELPERS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "grpcpp/support/status.h"
#include "tests/trellisd_process.h"
#include "tlog/note.h"
#include "trellis_settings.pb.h"

namespace trellis::testing {

struct TestLog {
  int64_t id = 0;
  trellis::LogSettings settings;
};

// Creates and initialises a LOG tree (with `settings` if given).
TestLog CreateLog(const TrellisdProcess& server,
                  const trellis::LogSettings* settings = nullptr);

grpc::Status Queue(const TrellisdProcess& server, int64_t log_id,
                   const std::vector<std::string>& values);

// Distinct leaves of varied lengths (up to 1,200 bytes).
std::string LeafValue(int i);

// "/logs/<id>/".
std::string LogPrefix(int64_t log_id);

// The checkpoint served on `tlog_port` for `log_id` once it is for `size`
// leaves (and, if `min_signatures` > 1, carries that many signature lines);
// "" with a test failure after 60 s.
std::string AwaitCheckpoint(int tlog_port, int64_t log_id, uint64_t size,
                            size_t min_signatures = 1);

// The checkpoint served now ("" if none).
std::string CurrentCheckpoint(int tlog_port, int64_t log_id);

// Checkpoints of a log whose note key the test holds, so that it can sign
// a fork: another root for a size, or a tree that does not extend another.
class ForkingLog {
 public:
  explicit ForkingLog(const std::string& origin = "example.com/forking");
  std::string vkey() const;
  // The signed checkpoint of `size` leaves with `root`.
  std::string Note(uint64_t size, const std::string& root) const;

 private:
  tlog::NoteSigner signer_;
};

}  // namespace trellis::testing

#endif  // TRELLIS_TESTS_TLOG_HELPERS_H_
