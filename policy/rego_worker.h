// The worker side of the Rego sandbox (rego_sandbox.h): its messages, and
// how a process is told to become a worker. Any binary that links the
// sandbox can serve as a worker: a static initialiser in rego_worker.cc
// turns the process into one before main() when it finds the environment
// variable, so trellisd, tests and benchmarks need no separate executable.
#ifndef TRELLIS_POLICY_REGO_WORKER_H_
#define TRELLIS_POLICY_REGO_WORKER_H_

#include <sys/types.h>

#include <string>

#include "policy/rego_sandbox.h"

namespace trellis::policy {

// The worker's end of its socket.
inline constexpr int kWorkerSocket = 3;

// Requests: {load, digest, name, text, name, text...} and
// {eval, digest, query, input JSON, result byte limit}.
inline constexpr char kLoadOp[] = "load";
inline constexpr char kEvalOp[] = "eval";
// Replies: {ready} once started, {loaded}, {unknown} (an eval of a program
// the worker does not hold), {result, JSON}, {undefined}, {error, message}.
inline constexpr char kReadyReply[] = "ready";
inline constexpr char kLoadedReply[] = "loaded";
inline constexpr char kUnknownReply[] = "unknown";
inline constexpr char kResultReply[] = "result";
inline constexpr char kUndefinedReply[] = "undefined";
inline constexpr char kErrorReply[] = "error";

// The "NAME=VALUE" entry that makes a child of `parent` a worker.
std::string WorkerEnvironment(pid_t parent, const RegoSandboxOptions& options);

}  // namespace trellis::policy

#endif  // TRELLIS_POLICY_REGO_WORKER_H_
