#include "policy/rego_policy.h"

#include "absl/strings/str_cat.h"
#include "third_party/regorus_shim/trellis_rego.h"

namespace trellis::policy {
namespace {

// Engines kept for reuse per policy (about one per concurrent caller).
constexpr size_t kMaxIdleEngines = 16;

// Takes ownership of a string the shim returned.
std::string Take(char* text) {
  std::string out = text == nullptr ? std::string() : std::string(text);
  trellis_rego_string_free(text);
  return out;
}

// Deepest nesting of ( [ { a module may have: the engine's parser recurses
// per level, and much deeper input would exhaust the stack.
constexpr int kMaxNesting = 128;

// True if `text` nests brackets deeper than kMaxNesting (strings, raw
// strings and comments skipped).
bool TooDeep(absl::string_view text) {
  int depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (c == '"') {
      for (++i; i < text.size() && text[i] != '"'; ++i) {
        if (text[i] == '\\') ++i;
      }
    } else if (c == '`') {
      for (++i; i < text.size() && text[i] != '`'; ++i) {
      }
    } else if (c == '(' || c == '[' || c == '{') {
      if (++depth > kMaxNesting) return true;
    } else if (c == ')' || c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

}  // namespace

void RegoPolicy::EngineDeleter::operator()(TrellisRego* engine) const {
  trellis_rego_free(engine);
}

RegoPolicy::~RegoPolicy() = default;

absl::StatusOr<std::unique_ptr<RegoPolicy>> RegoPolicy::Compile(
    const std::vector<RegoModule>& modules) {
  Engine engine(trellis_rego_new());
  if (engine == nullptr) return absl::InternalError("no Rego engine");
  for (const RegoModule& module : modules) {
    if (TooDeep(module.text)) {
      return absl::InvalidArgumentError(
          absl::StrCat("Failed to compile policy: ", module.name,
                       " nests deeper than ", kMaxNesting, " levels"));
    }
    char* error = nullptr;
    if (trellis_rego_add_policy(engine.get(), module.name.data(),
                                module.name.size(), module.text.data(),
                                module.text.size(), &error) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("Failed to compile policy: ", Take(error)));
    }
  }
  return std::unique_ptr<RegoPolicy>(new RegoPolicy(std::move(engine)));
}

absl::StatusOr<RegoPolicy::Engine> RegoPolicy::Acquire() const {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      Engine engine = std::move(idle_.back());
      idle_.pop_back();
      return engine;
    }
  }
  Engine engine(trellis_rego_clone(base_.get()));
  if (engine == nullptr) return absl::InternalError("cannot copy the policy");
  return engine;
}

void RegoPolicy::Release(Engine engine) const {
  absl::MutexLock lock(&mu_);
  if (idle_.size() < kMaxIdleEngines) idle_.push_back(std::move(engine));
}

absl::StatusOr<std::optional<std::string>> RegoPolicy::Evaluate(
    absl::string_view query, absl::string_view input_json,
    size_t max_result_bytes) const {
  absl::StatusOr<Engine> engine = Acquire();
  if (!engine.ok()) return engine.status();
  char* error = nullptr;
  if (trellis_rego_set_input_json(engine->get(), input_json.data(),
                                  input_json.size(), &error) != 0) {
    // The engine is unchanged; it can serve the next call.
    Release(*std::move(engine));
    return absl::InvalidArgumentError(
        absl::StrCat("policy input is not JSON: ", Take(error)));
  }
  char* result = nullptr;
  const int defined = trellis_rego_eval_query(engine->get(), query.data(),
                                              query.size(), &result, &error);
  Release(*std::move(engine));
  if (defined < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("Policy evaluation failed: ", Take(error)));
  }
  if (defined == 0) return std::nullopt;
  std::string json = Take(result);
  if (json.size() > max_result_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("policy result is ", json.size(), " bytes, over the ",
                     max_result_bytes, "-byte limit"));
  }
  return json;
}

}  // namespace trellis::policy
