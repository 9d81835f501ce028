#include "logging/grpc_request_log.h"

#include "gtest/gtest.h"
#include "trellis_attest.pb.h"
#include "trillian_admin_api.pb.h"
#include "trillian_log_api.pb.h"
#include "trillian_map_api.pb.h"

namespace trellis::logging {
namespace {

TEST(SubjectOfTest, NamesTheTreeAndHostARequestConcerns) {
  trillian::QueueLeafRequest queue;
  queue.set_log_id(42);
  EXPECT_EQ(SubjectOf(queue).tree, "42");
  trillian::GetMapLeavesRequest map;
  map.set_map_id(-7);
  EXPECT_EQ(SubjectOf(map).tree, "-7");
  trillian::DeleteTreeRequest remove;
  remove.set_tree_id(9);
  EXPECT_EQ(SubjectOf(remove).tree, "9");
  trillian::UpdateTreeRequest update;
  update.mutable_tree()->set_tree_id(11);
  EXPECT_EQ(SubjectOf(update).tree, "11");
  trellis::IssueNonceRequest nonce;
  nonce.set_host_id(std::string(300, 'h'));
  EXPECT_EQ(SubjectOf(nonce).host, std::string(128, 'h'));
  EXPECT_EQ(SubjectOf(nonce).tree, "");
}

TEST(SubjectOfTest, NothingForRequestsThatNameNone) {
  // A new tree has no id yet; listing names no tree.
  trillian::CreateTreeRequest create;
  create.mutable_tree()->set_display_name("x");
  EXPECT_EQ(SubjectOf(create).tree, "");
  EXPECT_EQ(SubjectOf(trillian::ListTreesRequest()).tree, "");
  EXPECT_EQ(SubjectOf(trillian::ListTreesRequest()).host, "");
}

}  // namespace
}  // namespace trellis::logging
