#include "policy/frames.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace trellis::policy {
namespace {

void AppendLength(uint32_t length, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((length >> shift) & 0xff));
  }
}

uint32_t LengthAt(absl::string_view bytes) {
  uint32_t length = 0;
  for (int i = 0; i < 4; ++i) {
    length = (length << 8) | static_cast<uint8_t>(bytes[i]);
  }
  return length;
}

// Reads exactly `size` bytes into `out` by `deadline`.
absl::Status ReadExactly(int fd, size_t size, absl::Time deadline,
                         std::string* out) {
  out->resize(size);
  size_t done = 0;
  while (done < size) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError("no reply in time");
    }
    pollfd ready = {fd, POLLIN, 0};
    const int timeout_ms =
        deadline == absl::InfiniteFuture()
            ? -1
            : static_cast<int>(std::min<int64_t>(
                  absl::ToInt64Milliseconds(left) + 1, 1 << 30));
    const int polled = poll(&ready, 1, timeout_ms);
    if (polled < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("poll: ", strerror(errno)));
    }
    if (polled == 0) continue;  // The deadline check above decides.
    const ssize_t got = recv(fd, out->data() + done, size - done, 0);
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return absl::UnavailableError(absl::StrCat("recv: ", strerror(errno)));
    }
    if (got == 0) return absl::UnavailableError("the peer closed");
    done += static_cast<size_t>(got);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteFrame(int fd, const std::vector<absl::string_view>& fields) {
  size_t body = 0;
  for (absl::string_view field : fields) body += 4 + field.size();
  if (body > kMaxFrameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("a ", body, "-byte message is over the frame limit"));
  }
  std::string frame;
  frame.reserve(4 + body);
  AppendLength(static_cast<uint32_t>(body), &frame);
  for (absl::string_view field : fields) {
    AppendLength(static_cast<uint32_t>(field.size()), &frame);
    frame.append(field.data(), field.size());
  }
  size_t done = 0;
  while (done < frame.size()) {
    const ssize_t sent =
        send(fd, frame.data() + done, frame.size() - done, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      return absl::UnavailableError(absl::StrCat("send: ", strerror(errno)));
    }
    done += static_cast<size_t>(sent);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ReadFrame(int fd,
                                                   absl::Time deadline) {
  std::string header;
  if (absl::Status s = ReadExactly(fd, 4, deadline, &header); !s.ok()) {
    return s;
  }
  const uint32_t body_size = LengthAt(header);
  if (body_size > kMaxFrameBytes) {
    return absl::DataLossError("frame over the size limit");
  }
  std::string body;
  if (absl::Status s = ReadExactly(fd, body_size, deadline, &body); !s.ok()) {
    return s;
  }
  std::vector<std::string> fields;
  absl::string_view rest = body;
  while (!rest.empty()) {
    if (rest.size() < 4) return absl::DataLossError("truncated field length");
    const uint32_t size = LengthAt(rest);
    rest.remove_prefix(4);
    if (size > rest.size()) return absl::DataLossError("truncated field");
    fields.emplace_back(rest.substr(0, size));
    rest.remove_prefix(size);
  }
  return fields;
}

}  // namespace trellis::policy
