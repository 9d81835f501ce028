// Concurrent issuances share log writes; each caller still gets the promise
// for its own records.
#include "identity/issuance_log.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "crypto/keys.h"
#include "gtest/gtest.h"
#include "merkle/hasher.h"

namespace trellis::identity {
namespace {

constexpr int64_t kLogId = 3;

// Stores leaves as a log would (leaf hash = RFC 6962 hash of the value).
class MemorySink : public log::RecordSink {
 public:
  absl::StatusOr<std::vector<std::string>> Append(
      int64_t log_id, const std::vector<std::string>& records) override {
    absl::MutexLock lock(&mu_);
    ++writes_;
    std::vector<std::string> hashes;
    for (const std::string& record : records) {
      leaves_.push_back(record);
      hashes.push_back(merkle::HashLeaf(record));
    }
    return hashes;
  }
  int writes() {
    absl::MutexLock lock(&mu_);
    return writes_;
  }
  size_t leaves() {
    absl::MutexLock lock(&mu_);
    return leaves_.size();
  }

 private:
  absl::Mutex mu_;
  int writes_ = 0;
  std::vector<std::string> leaves_;
};

std::shared_ptr<const crypto::Signer> NewSigner() {
  return std::make_shared<const crypto::Signer>(
      crypto::GenerateKey(keyspb::Specification()).value());
}

// The log `kLogId` on `sink`, its promises signed by `signer`; with
// `writer`, asynchronous appends are written there, at a fixed time.
IssuanceLog LogOn(log::RecordSink* sink,
                  std::shared_ptr<const crypto::Signer> signer,
                  ThreadPool* writer = nullptr) {
  return IssuanceLog(
      sink, [] { return absl::StatusOr<int64_t>(kLogId); },
      [signer](int64_t) {
        return absl::StatusOr<std::shared_ptr<const crypto::Signer>>(signer);
      },
      [] { return absl::FromUnixSeconds(1700000000); }, writer);
}

TEST(IssuanceLogTest, ConcurrentCallersGetTheirOwnPromises) {
  MemorySink sink;
  const std::shared_ptr<const crypto::Signer> signer = NewSigner();
  IssuanceLog log = LogOn(&sink, signer);
  const std::string public_key =
      crypto::MarshalPublicKey(signer->key()).value();
  constexpr int kThreads = 16;
  constexpr int kCalls = 50;
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int c = 0; c < kCalls; ++c) {
        std::vector<trellis::IssuanceRecord> records(1 + c % 3);
        for (size_t r = 0; r < records.size(); ++r) {
          records[r].set_spiffe_id(
              absl::StrCat("spiffe://example.org/", t, "/", c, "/", r));
        }
        auto promises = log.Append(records);
        if (!promises.ok() || promises->size() != records.size()) {
          ++wrong;
          continue;
        }
        for (size_t r = 0; r < records.size(); ++r) {
          const trellis::InclusionPromise& promise = (*promises)[r];
          // The promise names this caller's record (with the time and type
          // the log filled in, which the promise's timestamp carries).
          records[r].set_type(kIssuanceRecordType);
          records[r].set_time_unix_nanos(promise.timestamp_unix_nanos());
          if (promise.log_id() != kLogId ||
              promise.leaf_hash() !=
                  merkle::HashLeaf(SerializeRecord(records[r])) ||
              !crypto::VerifySignature(public_key, PromiseSigningInput(promise),
                                       promise.signature())
                   .ok()) {
            ++wrong;
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
  size_t expected = 0;
  for (int c = 0; c < kCalls; ++c) expected += kThreads * (1 + c % 3);
  EXPECT_EQ(sink.leaves(), expected);
  EXPECT_LE(sink.writes(), kThreads * kCalls);
}

TEST(IssuanceLogTest, WriteFailureReachesEveryCaller) {
  class FailingSink : public log::RecordSink {
   public:
    absl::StatusOr<std::vector<std::string>> Append(
        int64_t, const std::vector<std::string>&) override {
      return absl::UnavailableError("disk gone");
    }
  } sink;
  ThreadPool writer(1);
  IssuanceLog log = LogOn(&sink, NewSigner(), &writer);
  EXPECT_EQ(log.Append({trellis::IssuanceRecord()}).status().code(),
            absl::StatusCode::kUnavailable);
  absl::Notification answered;
  log.AppendRecordsAsync({trellis::IssuanceRecord()},
                         [&](absl::StatusOr<std::vector<std::string>> logged) {
                           EXPECT_EQ(logged.status().code(),
                                     absl::StatusCode::kUnavailable);
                           answered.Notify();
                         });
  answered.WaitForNotification();
}

// Callers that do not wait (JWT-SVIDs) and callers that do share the writes;
// each asynchronous caller is answered once, with its own record's hash,
// after the record reached the sink.
TEST(IssuanceLogTest, AsynchronousAppendsAreAnsweredOnceDurable) {
  MemorySink sink;
  ThreadPool writer(1);
  IssuanceLog log = LogOn(&sink, NewSigner(), &writer);
  constexpr int kThreads = 8;
  constexpr int kCalls = 100;
  absl::BlockingCounter answered(kThreads * kCalls / 2);
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int c = 0; c < kCalls; ++c) {
        trellis::IssuanceRecord record;
        record.set_spiffe_id(absl::StrCat("spiffe://example.org/", t, "/", c));
        trellis::IssuanceRecord expected = record;
        expected.set_type(kIssuanceRecordType);
        expected.set_time_unix_nanos(
            absl::ToUnixNanos(absl::FromUnixSeconds(1700000000)));
        const std::string hash = merkle::HashLeaf(SerializeRecord(expected));
        if (c % 2 == 1) {
          auto logged = log.AppendRecords({record});
          if (!logged.ok() || *logged != std::vector<std::string>{hash}) {
            ++wrong;
          }
          continue;
        }
        log.AppendRecordsAsync(
            {record}, [&, hash, leaves_before = sink.leaves()](
                          absl::StatusOr<std::vector<std::string>> logged) {
              if (!logged.ok() || *logged != std::vector<std::string>{hash} ||
                  sink.leaves() <= leaves_before) {
                ++wrong;
              }
              answered.DecrementCount();
            });
      }
    });
  }
  for (auto& t : threads) t.join();
  answered.Wait();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(sink.leaves(), static_cast<size_t>(kThreads * kCalls));
  EXPECT_LT(sink.writes(), kThreads * kCalls);
}

}  // namespace
}  // namespace trellis::identity
