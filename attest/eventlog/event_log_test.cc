// Measured boot logs replayed against a real TPM: a software TPM is
// extended with each event's SHA-256 digest, as firmware would, and the
// log's replay must give the TPM's PCRs.
#include "attest/eventlog/event_log.h"

#include "absl/strings/str_cat.h"
#include "attest/host/tpm_device.h"
#include "attest/testing/swtpm.h"
#include "attest/tpm/keys.h"
#include "gtest/gtest.h"

namespace trellis::attest::eventlog {
namespace {

Event MakeEvent(uint32_t pcr, uint32_t type, const std::string& data) {
  Event e;
  e.pcr = pcr;
  e.type = type;
  e.data = data;
  e.digests[TPM2_ALG_SHA1] = *tpm::TpmHash(TPM2_ALG_SHA1, data);
  e.digests[TPM2_ALG_SHA256] = *tpm::TpmHash(TPM2_ALG_SHA256, data);
  return e;
}

Event Sha256Only(Event e) {
  e.digests.erase(TPM2_ALG_SHA1);
  return e;
}

std::vector<Event> BootEvents() {
  std::vector<Event> events;
  events.push_back(MakeEvent(0, kEvNoAction, "SP800-155 Event"));
  for (uint32_t pcr = 0; pcr < 8; ++pcr) {
    for (int i = 0; i < 3; ++i) {
      events.push_back(MakeEvent(pcr, 0x80000003 + i,
                                 absl::StrCat("component ", pcr, ".", i)));
    }
    events.push_back(MakeEvent(pcr, kEvSeparator, std::string(4, '\0')));
  }
  return events;
}

TEST(EventLogTest, ReplaysToTheTpmsPcrs) {
  trellis::testing::Swtpm tpm;
  auto device = *host::TpmDevice::Open(tpm.tcti());
  const std::vector<Event> events = BootEvents();
  for (const Event& e : events) {
    if (e.type == kEvNoAction) continue;
    ASSERT_TRUE(device->ExtendPcr(e.pcr, e.digests.at(TPM2_ALG_SHA256)).ok());
  }
  const std::string bytes = Serialize({TPM2_ALG_SHA1, TPM2_ALG_SHA256}, events);
  absl::StatusOr<EventLog> log = Parse(bytes);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(log->events.size(), events.size());
  EXPECT_EQ(log->algorithms.at(TPM2_ALG_SHA256), 32);
  absl::StatusOr<std::map<uint32_t, std::string>> replayed =
      Replay(*log, TPM2_ALG_SHA256);
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  auto pcrs = *device->ReadPcrs(*host::ParsePcrList("sha256:0,1,2,3,4,5,6,7"));
  ASSERT_EQ(replayed->size(), 8u);
  for (const tpm::PcrValue& v : pcrs) {
    EXPECT_EQ(replayed->at(v.pcr), v.digest) << "PCR " << v.pcr;
  }
  // A changed event digest breaks its PCR only.
  EventLog tampered = *log;
  tampered.events[5].digests[TPM2_ALG_SHA256][0] ^= 1;
  auto bad = *Replay(tampered, TPM2_ALG_SHA256);
  EXPECT_NE(bad.at(tampered.events[5].pcr),
            replayed->at(tampered.events[5].pcr));
  EXPECT_EQ(bad.at(7), replayed->at(7));
}

TEST(EventLogTest, StartupLocalityAndHcrtmSetPcr0sStart) {
  Event locality = Sha256Only(MakeEvent(0, kEvNoAction, ""));
  locality.data = std::string("StartupLocality\0", 16) + std::string(1, '\x03');
  const Event crtm = Sha256Only(MakeEvent(0, 0x8, "crtm version"));
  auto log = *Parse(Serialize({TPM2_ALG_SHA256}, {locality, crtm}));
  std::string start(32, '\0');
  start.back() = 3;
  EXPECT_EQ(
      Replay(log, TPM2_ALG_SHA256)->at(0),
      *tpm::TpmHash(TPM2_ALG_SHA256, start + crtm.digests.at(TPM2_ALG_SHA256)));
  const Event hcrtm = Sha256Only(MakeEvent(0, kEvEfiHcrtmEvent, "HCRTM"));
  log = *Parse(Serialize({TPM2_ALG_SHA256}, {hcrtm, locality}));
  start.back() = 4;
  EXPECT_EQ(Replay(log, TPM2_ALG_SHA256)->at(0),
            *tpm::TpmHash(TPM2_ALG_SHA256,
                          start + hcrtm.digests.at(TPM2_ALG_SHA256)));
}

TEST(EventLogTest, RejectsMalformedLogs) {
  const std::string good = Serialize(
      {TPM2_ALG_SHA256}, {Sha256Only(MakeEvent(4, 0x80000003, "boot"))});
  ASSERT_TRUE(Parse(good).ok());
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_FALSE(Parse(good.substr(0, n)).ok() &&
                 Parse(good.substr(0, n))->events.size() == 1)
        << n;
  }
  std::string not_agile = good;
  not_agile[4] = 1;  // The header is not EV_NO_ACTION.
  EXPECT_FALSE(Parse(not_agile).ok());
  std::string bad_signature = good;
  bad_signature[32] = 'X';
  EXPECT_FALSE(Parse(bad_signature).ok());
  // An event with a SHA-1 digest in a SHA-256-only log.
  EXPECT_FALSE(Parse(Serialize({TPM2_ALG_SHA256},
                               {Sha256Only(MakeEvent(4, 0x80000003, "x"))}) +
                     std::string("\x04\0\0\0\x01\0\0\0\x01\0\0\0\x04\0", 14) +
                     std::string(20, 'd') + std::string(4, '\0'))
                   .ok());
  // Replay of a bank the log does not carry.
  EXPECT_FALSE(Replay(*Parse(good), TPM2_ALG_SHA1).ok());
}

}  // namespace
}  // namespace trellis::attest::eventlog
