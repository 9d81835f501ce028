#include "log/tiles_http.h"

#include <zlib.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "util/lru_cache.h"

namespace trellis::log {
namespace {

constexpr char kLogPrefix[] = R"(/logs/([1-9][0-9]{0,18})/)";
constexpr char kImmutable[] = "public, max-age=31536000, immutable";
constexpr size_t kGzipCacheBytes = size_t{32} << 20;

void AllowAnyOrigin(http::Response& response) {
  response.headers.emplace_back("Access-Control-Allow-Origin", "*");
}

void Fail(const absl::Status& status, http::Response& response) {
  response.status = absl::IsNotFound(status) ? 404 : 500;
  response.content_type = "text/plain; charset=utf-8";
  response.body = absl::StrCat(
      absl::IsNotFound(status) ? status.message() : "internal error", "\n");
  response.headers.emplace_back("Cache-Control", "no-store");
  AllowAnyOrigin(response);
}

bool TreeIdOf(const http::Request& request, int64_t* tree_id) {
  return !request.path_params.empty() &&
         absl::SimpleAtoi(request.path_params[0], tree_id) && *tree_id > 0;
}

// True if the client accepts gzip (a q=0 refusal is honoured).
bool AcceptsGzip(const http::Request& request) {
  for (absl::string_view coding :
       absl::StrSplit(request.Header("Accept-Encoding"), ',')) {
    coding = absl::StripAsciiWhitespace(coding);
    std::vector<absl::string_view> parts = absl::StrSplit(coding, ';');
    if (!absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(parts[0]), "gzip")) {
      continue;
    }
    for (size_t i = 1; i < parts.size(); ++i) {
      absl::string_view param = absl::StripAsciiWhitespace(parts[i]);
      if (param == "q=0" || param == "q=0.0" || param == "q=0.00" ||
          param == "q=0.000") {
        return false;
      }
    }
    return true;
  }
  return false;
}

absl::StatusOr<std::string> Gzip(absl::string_view data) {
  z_stream stream{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return absl::InternalError("deflateInit2 failed");
  }
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  if (result != Z_STREAM_END) return absl::InternalError("deflate failed");
  return out;
}

}  // namespace

void AddTlogTilesRoutes(TileReader* reader, http::Router& router) {
  router.Get(absl::StrCat(kLogPrefix, "checkpoint"),
             [reader](const http::Request& request, http::Response& response) {
               int64_t tree_id = 0;
               if (!TreeIdOf(request, &tree_id)) {
                 return Fail(absl::NotFoundError("no such log"), response);
               }
               absl::StatusOr<std::shared_ptr<const storage::StoredCheckpoint>>
                   checkpoint = reader->Checkpoint(tree_id);
               if (!checkpoint.ok()) return Fail(checkpoint.status(), response);
               response.content_type = "text/plain; charset=utf-8";
               response.body = (*checkpoint)->note;
               response.headers.emplace_back("Cache-Control", "no-cache");
               AllowAnyOrigin(response);
             });
  // Bundles of a width never change: each is compressed once.
  auto gzipped = std::make_shared<LruCache<std::string>>(kGzipCacheBytes);
  router.Get(
      absl::StrCat(kLogPrefix, "(tile/.*)"),
      [reader, gzipped](const http::Request& request,
                        http::Response& response) {
        int64_t tree_id = 0;
        if (!TreeIdOf(request, &tree_id)) {
          return Fail(absl::NotFoundError("no such log"), response);
        }
        absl::StatusOr<tlog::TileId> id =
            tlog::ParseTilePath(request.path_params[1]);
        if (!id.ok()) {
          return Fail(absl::NotFoundError(id.status().message()), response);
        }
        absl::StatusOr<std::shared_ptr<const std::string>> tile =
            reader->Tile(tree_id, *id);
        if (!tile.ok()) return Fail(tile.status(), response);
        response.content_type = "application/octet-stream";
        response.headers.emplace_back("Cache-Control", kImmutable);
        AllowAnyOrigin(response);
        if (!id->entries) {
          response.body = **tile;
          return;
        }
        response.headers.emplace_back("Vary", "Accept-Encoding");
        if (!AcceptsGzip(request)) {
          response.body = **tile;
          return;
        }
        const std::string key =
            absl::StrCat(tree_id, "/", id->index, "/", id->width);
        std::shared_ptr<const std::string> compressed = gzipped->Get(key);
        if (compressed == nullptr) {
          absl::StatusOr<std::string> made = Gzip(**tile);
          if (!made.ok()) return Fail(made.status(), response);
          compressed = std::make_shared<const std::string>(std::move(*made));
          // A bundle of a given width never changes, partial or not.
          gzipped->Put(key, compressed, compressed->size(),
                       /*replace=*/false);
        }
        response.headers.emplace_back("Content-Encoding", "gzip");
        response.body = *compressed;
      });
  router.Add("OPTIONS", absl::StrCat(kLogPrefix, "(checkpoint|tile/.*)"),
             [](const http::Request&, http::Response& response) {
               response.status = 204;
               response.content_type = "";
               AllowAnyOrigin(response);
               response.headers.emplace_back("Access-Control-Allow-Methods",
                                             "GET, HEAD, OPTIONS");
               response.headers.emplace_back("Access-Control-Max-Age", "86400");
             });
}

}  // namespace trellis::log
