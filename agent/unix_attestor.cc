#include "agent/unix_attestor.h"

#include <fcntl.h>
#include <grp.h>
#include <openssl/evp.h>
#include <pwd.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace trellis::agent {
namespace {

spire::api::types::Selector Unix(const std::string& value) {
  spire::api::types::Selector selector;
  selector.set_type("unix");
  selector.set_value(value);
  return selector;
}

// SHA-256 of the file `path` names, empty if it cannot be read.
std::string FileSha256(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                              EVP_MD_CTX_free);
  bool ok = ctx != nullptr &&
            EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1;
  char buffer[1 << 16];
  ssize_t n = 0;
  while (ok && (n = read(fd, buffer, sizeof(buffer))) > 0) {
    ok = EVP_DigestUpdate(ctx.get(), buffer, n) == 1;
  }
  close(fd);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!ok || n < 0 || EVP_DigestFinal_ex(ctx.get(), digest, &length) != 1) {
    return "";
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<char*>(digest), length));
}

}  // namespace

std::vector<spire::api::types::Selector> UnixSelectors(
    const PeerCredentials& peer, const UnixSelectorKinds& kinds) {
  std::vector<spire::api::types::Selector> selectors = {
      Unix(absl::StrCat("uid:", peer.uid)),
      Unix(absl::StrCat("gid:", peer.gid))};
  char buffer[16384];
  struct passwd pw;
  struct passwd* user = nullptr;
  if (kinds.user &&
      getpwuid_r(peer.uid, &pw, buffer, sizeof(buffer), &user) == 0 &&
      user != nullptr) {
    selectors.push_back(Unix(absl::StrCat("user:", user->pw_name)));
  }
  struct group gr;
  struct group* group = nullptr;
  if (kinds.group &&
      getgrgid_r(peer.gid, &gr, buffer, sizeof(buffer), &group) == 0 &&
      group != nullptr) {
    selectors.push_back(Unix(absl::StrCat("group:", group->gr_name)));
  }
  if (kinds.supplementary && peer.pid > 0) {
    // "Groups:\t4 24 27" in /proc/<pid>/status.
    std::ifstream status(absl::StrCat("/proc/", peer.pid, "/status"));
    std::string line;
    while (std::getline(status, line)) {
      if (!absl::StartsWith(line, "Groups:")) continue;
      for (absl::string_view field : absl::StrSplit(
               line.substr(7), absl::ByAnyChar(" \t"), absl::SkipEmpty())) {
        gid_t gid = 0;
        if (!absl::SimpleAtoi(field, &gid) || gid == peer.gid) continue;
        selectors.push_back(Unix(absl::StrCat("supplementary_gid:", gid)));
        if (getgrgid_r(gid, &gr, buffer, sizeof(buffer), &group) == 0 &&
            group != nullptr) {
          selectors.push_back(
              Unix(absl::StrCat("supplementary_group:", group->gr_name)));
        }
      }
      break;
    }
  }
  // The binary through /proc: its path, and its digest read through the
  // process's own link so a renamed file is still the one running.
  const std::string exe = absl::StrCat("/proc/", peer.pid, "/exe");
  char path[4096];
  const ssize_t length = kinds.path || kinds.sha256
                             ? readlink(exe.c_str(), path, sizeof(path) - 1)
                             : -1;
  if ((kinds.path || kinds.sha256) && peer.pid > 0 && length > 0) {
    selectors.push_back(Unix(absl::StrCat("path:", std::string(path, length))));
    if (std::string digest = kinds.sha256 ? FileSha256(exe) : "";
        !digest.empty()) {
      selectors.push_back(Unix(absl::StrCat("sha256:", digest)));
    }
  }
  return selectors;
}

}  // namespace trellis::agent
