#include "log/queue_coalescer.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "merkle/hasher.h"
#include "storage/rocksdb/database.h"
#include "storage/rocksdb/log_storage.h"
#include "util/test_util.h"

namespace trellis::log {
namespace {

constexpr int64_t kLog = 7;
constexpr int64_t kOtherLog = 8;

// A leaf as LogManager prepares it: identified by its Merkle leaf hash.
trillian::LogLeaf Leaf(const std::string& value) {
  const std::string hash = merkle::HashLeaf(value);
  trillian::LogLeaf leaf;
  leaf.set_leaf_value(value);
  leaf.set_merkle_leaf_hash(hash);
  leaf.set_leaf_identity_hash(hash);
  return leaf;
}

// The real RocksDB storage, recording the size of each QueueLeaves write;
// while held, writes wait for Release so that calls pile up behind them.
class RecordingStorage : public storage::rocksdb::RocksLogStorage {
 public:
  using RocksLogStorage::RocksLogStorage;

  absl::StatusOr<std::vector<storage::QueueOutcome>> QueueLeaves(
      int64_t tree_id, std::vector<trillian::LogLeaf> leaves) override {
    {
      absl::MutexLock lock(&mu_);
      write_sizes_.push_back(leaves.size());
      write_logs_.push_back(tree_id);
      mu_.Await(absl::Condition(
          +[](bool* held) { return !*held; }, &held_));
    }
    return RocksLogStorage::QueueLeaves(tree_id, std::move(leaves));
  }

  void Hold() {
    absl::MutexLock lock(&mu_);
    held_ = true;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    held_ = false;
  }
  // Waits until `n` writes have started; false if they do not within 10 s
  // (a call that waits when it should write).
  [[nodiscard]] bool AwaitWrites(size_t n) {
    absl::MutexLock lock(&mu_);
    auto started = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return write_sizes_.size() >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&started), absl::Seconds(10));
  }
  std::vector<size_t> write_sizes() {
    absl::MutexLock lock(&mu_);
    return write_sizes_;
  }
  std::vector<int64_t> write_logs() {
    absl::MutexLock lock(&mu_);
    return write_logs_;
  }

 private:
  absl::Mutex mu_;
  bool held_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<size_t> write_sizes_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> write_logs_ ABSL_GUARDED_BY(mu_);
};

// What each call was answered, by call number.
class Answers {
 public:
  QueueDone For(int call) {
    return [this,
            call](absl::StatusOr<std::vector<storage::QueueOutcome>> outcomes) {
      absl::MutexLock lock(&mu_);
      answers_.emplace(call, std::move(outcomes));
    };
  }
  // Waits for `n` answers and returns them.
  std::map<int, absl::StatusOr<std::vector<storage::QueueOutcome>>> Await(
      size_t n) {
    absl::MutexLock lock(&mu_);
    auto answered = [&]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return answers_.size() >= n;
    };
    mu_.Await(absl::Condition(&answered));
    return answers_;
  }

 private:
  absl::Mutex mu_;
  std::map<int, absl::StatusOr<std::vector<storage::QueueOutcome>>> answers_
      ABSL_GUARDED_BY(mu_);
};

class QueueCoalescerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = storage::rocksdb::Database::Open({dir_.path()});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    Reopen(storage::rocksdb::kDefaultMaxQueuedBytesPerLog);
  }
  // Held writes go, so that the pool's threads can finish (after a failed
  // assertion too).
  void TearDown() override { storage_->Release(); }
  void Reopen(size_t max_queued_bytes) {
    storage_ = std::make_unique<RecordingStorage>(
        db_.get(), storage::rocksdb::kDefaultLogTileCacheBytes,
        max_queued_bytes);
    for (int64_t log : {kLog, kOtherLog}) {
      absl::Status s = storage_->InitRoot(log, trillian::SignedLogRoot());
      ASSERT_TRUE(s.ok() || absl::IsAlreadyExists(s)) << s;
    }
  }
  QueueCoalescer& Coalescer(QueueCoalescerOptions options = {}) {
    coalescer_ =
        std::make_unique<QueueCoalescer>(storage_.get(), pool_.get(), options);
    return *coalescer_;
  }
  // Queues one call per leaf list behind a held first write, then lets the
  // writes go and waits for every answer.
  std::map<int, absl::StatusOr<std::vector<storage::QueueOutcome>>>
  QueueBehindHeldWrite(QueueCoalescer& coalescer,
                       const std::vector<std::vector<std::string>>& calls) {
    storage_->Hold();
    Answers& answers = answers_;
    for (size_t c = 0; c < calls.size(); ++c) {
      std::vector<trillian::LogLeaf> leaves;
      for (const std::string& value : calls[c]) leaves.push_back(Leaf(value));
      coalescer.Queue(kLog, std::move(leaves), answers.For(c));
      if (c == 0) {
        EXPECT_TRUE(storage_->AwaitWrites(1));
      }
    }
    storage_->Release();
    return answers.Await(calls.size());
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::rocksdb::Database> db_;
  std::unique_ptr<RecordingStorage> storage_;
  std::unique_ptr<QueueCoalescer> coalescer_;
  // Outlives the pool, whose writes answer into it.
  Answers answers_;
  // Destroyed first: its threads finish the coalescer's writes.
  std::unique_ptr<ThreadPool> pool_ = std::make_unique<ThreadPool>(4);
};

TEST_F(QueueCoalescerTest, CallsWaitingBehindAWriteShareTheNextOne) {
  QueueCoalescer& coalescer = Coalescer();
  std::vector<std::vector<std::string>> calls;
  for (int c = 0; c < 50; ++c) calls.push_back({"leaf " + std::to_string(c)});
  auto answers = QueueBehindHeldWrite(coalescer, calls);

  // The first call alone, then the 49 that waited, in one write.
  EXPECT_EQ(storage_->write_sizes(), (std::vector<size_t>{1, 49}));
  for (int c = 0; c < 50; ++c) {
    ASSERT_TRUE(answers.at(c).ok()) << answers.at(c).status();
    ASSERT_EQ(answers.at(c)->size(), 1u);
    EXPECT_TRUE(answers.at(c)->front().added);
    EXPECT_EQ(answers.at(c)->front().leaf.leaf_value(), calls[c][0]);
  }
  // Durable and queued, in call order.
  auto queued = storage_->PeekQueue(kLog, 100);
  ASSERT_TRUE(queued.ok());
  ASSERT_EQ(queued->size(), 50u);
  for (int c = 0; c < 50; ++c) {
    EXPECT_EQ((*queued)[c].leaf.leaf_value(), calls[c][0]);
  }
}

TEST_F(QueueCoalescerTest, ALeafRepeatedByALaterCallIsAnsweredAsHeld) {
  QueueCoalescer& coalescer = Coalescer();
  auto answers = QueueBehindHeldWrite(
      coalescer, {{"first"}, {"a", "b"}, {"c", "a"}, {"b"}, {"first"}});

  EXPECT_EQ(storage_->write_sizes(), (std::vector<size_t>{1, 6}));
  auto added = [&](int call, int leaf) {
    return answers.at(call)->at(leaf).added;
  };
  for (int c = 0; c < 5; ++c) ASSERT_TRUE(answers.at(c).ok());
  EXPECT_TRUE(added(1, 0) && added(1, 1) && added(2, 0));
  EXPECT_FALSE(added(2, 1));
  EXPECT_EQ(answers.at(2)->at(1).leaf.leaf_value(), "a");
  EXPECT_FALSE(added(3, 0));
  EXPECT_EQ(answers.at(3)->at(0).leaf.leaf_value(), "b");
  EXPECT_FALSE(added(4, 0));
  auto queued = storage_->PeekQueue(kLog, 100);
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(queued->size(), 4u);  // first, a, b, c
}

TEST_F(QueueCoalescerTest, WritesStayWithinTheLeafLimit) {
  QueueCoalescerOptions options;
  options.max_leaves_per_write = 3;
  QueueCoalescer& coalescer = Coalescer(options);
  // The 5-leaf call exceeds the limit and is written alone.
  auto answers = QueueBehindHeldWrite(
      coalescer,
      {{"0"}, {"1", "2"}, {"3"}, {"4"}, {"5", "6", "7", "8", "9"}, {"10"}});

  EXPECT_EQ(storage_->write_sizes(), (std::vector<size_t>{1, 3, 1, 5, 1}));
  for (int c = 0; c < 6; ++c) EXPECT_TRUE(answers.at(c).ok());
}

TEST_F(QueueCoalescerTest, CallsBeyondTheWaitingLimitAreRefusedAtOnce) {
  QueueCoalescerOptions options;
  options.max_waiting_calls = 2;
  QueueCoalescer& coalescer = Coalescer(options);
  storage_->Hold();
  Answers& answers = answers_;
  coalescer.Queue(kLog, {Leaf("writing")}, answers.For(0));
  ASSERT_TRUE(storage_->AwaitWrites(1));
  coalescer.Queue(kLog, {Leaf("waits 1")}, answers.For(1));
  coalescer.Queue(kLog, {Leaf("waits 2")}, answers.For(2));
  coalescer.Queue(kLog, {Leaf("refused")}, answers.For(3));
  // Answered on this thread, before any write is let go.
  auto refused = answers.Await(1);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused.at(3).status().code(),
            absl::StatusCode::kResourceExhausted);
  // Other logs have their own limit.
  coalescer.Queue(kOtherLog, {Leaf("another log")}, answers.For(4));
  storage_->Release();
  auto all = answers.Await(5);
  for (int c : {0, 1, 2, 4}) EXPECT_TRUE(all.at(c).ok()) << all.at(c).status();
}

TEST_F(QueueCoalescerTest, LargeCallsAreLeftToTheCaller) {
  QueueCoalescerOptions options;
  options.write_alone_from = 3;
  QueueCoalescer& coalescer = Coalescer(options);
  EXPECT_FALSE(coalescer.WritesAlone(2));
  EXPECT_TRUE(coalescer.WritesAlone(3));
}

TEST_F(QueueCoalescerTest, ABusyLogYieldsItsThreadBetweenBatches) {
  // One pool thread: while log A's calls keep arriving, log B's call must
  // still be written (A's next batch queues behind it).
  pool_ = std::make_unique<ThreadPool>(1);
  QueueCoalescer& coalescer = Coalescer();
  storage_->Hold();
  Answers& answers = answers_;
  coalescer.Queue(kLog, {Leaf("a0")}, answers.For(0));
  ASSERT_TRUE(storage_->AwaitWrites(1));
  coalescer.Queue(kLog, {Leaf("a1")}, answers.For(1));  // A's next batch.
  coalescer.Queue(kOtherLog, {Leaf("b0")}, answers.For(2));
  storage_->Release();
  auto all = answers.Await(3);
  for (int c = 0; c < 3; ++c) ASSERT_TRUE(all.at(c).ok()) << all.at(c).status();
  // A's first batch, then B (queued while A's first was written), then A's
  // second: not A's two back to back.
  EXPECT_EQ(storage_->write_logs(),
            (std::vector<int64_t>{kLog, kOtherLog, kLog}));
  auto queued_b = storage_->PeekQueue(kOtherLog, 10);
  ASSERT_TRUE(queued_b.ok());
  EXPECT_EQ(queued_b->size(), 1u);
}

TEST_F(QueueCoalescerTest, AWriteErrorReachesEveryCallInTheBatch) {
  // Room for one 100-byte leaf (and its hashes), not for three more.
  Reopen(/*max_queued_bytes=*/300);
  QueueCoalescer& coalescer = Coalescer();
  auto answers = QueueBehindHeldWrite(coalescer, {{std::string(100, 'a')},
                                                  {std::string(100, 'b')},
                                                  {std::string(100, 'c')},
                                                  {std::string(100, 'd')}});
  ASSERT_TRUE(answers.at(0).ok()) << answers.at(0).status();
  for (int c = 1; c < 4; ++c) {
    EXPECT_EQ(answers.at(c).status().code(),
              absl::StatusCode::kResourceExhausted)
        << answers.at(c).status();
  }
}

}  // namespace
}  // namespace trellis::log
