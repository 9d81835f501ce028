// Trellis as a tlog-witness over HTTP (translation only):
//   POST /add-checkpoint   the c2sp.org/tlog-witness call
#ifndef TRELLIS_WITNESS_WITNESS_HTTP_H_
#define TRELLIS_WITNESS_WITNESS_HTTP_H_

#include "http/router.h"
#include "witness/witness.h"

namespace trellis::witness {

void AddWitnessRoutes(Witness* witness, http::Router& router);

}  // namespace trellis::witness

#endif  // TRELLIS_WITNESS_WITNESS_HTTP_H_
