// Serves logs as C2SP tlog-tiles over HTTP (translation only; TileReader
// decides what may be read). Per log, under /logs/<tree id>/:
//   checkpoint                      text/plain, never cached
//   tile/<L>/<N>[.p/<W>]            hash tiles
//   tile/entries/<N>[.p/<W>]        entry bundles (gzip when accepted)
// Tiles and bundles never change once they exist at a width, so they are
// served as immutable. Every response allows any origin (CORS), so that
// browsers can verify proofs against the log themselves.
#ifndef TRELLIS_LOG_TILES_HTTP_H_
#define TRELLIS_LOG_TILES_HTTP_H_

#include "http/router.h"
#include "log/tile_reader.h"

namespace trellis::log {

void AddTlogTilesRoutes(TileReader* reader, http::Router& router);

}  // namespace trellis::log

#endif  // TRELLIS_LOG_TILES_HTTP_H_
