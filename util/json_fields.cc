#include "util/json_fields.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace trellis::json_fields {
namespace {

using nlohmann::json;

absl::Status Missing(absl::string_view name) {
  return absl::InvalidArgumentError(
      absl::StrCat("missing required field \"", name, "\""));
}

absl::Status Mistyped(absl::string_view name, absl::string_view type) {
  return absl::InvalidArgumentError(
      absl::StrCat("field \"", name, "\" must be ", type));
}

absl::StatusOr<std::string> Decode(absl::string_view name,
                                   const std::string& text) {
  std::string bytes;
  if (!absl::Base64Unescape(text, &bytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat("field \"", name, "\" is not base64"));
  }
  return bytes;
}

}  // namespace

const json* Find(const json& object, absl::string_view name) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(std::string(name));
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

absl::StatusOr<std::string> String(const json& object, absl::string_view name) {
  absl::StatusOr<std::optional<std::string>> value =
      OptionalString(object, name);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return Missing(name);
  if ((*value)->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("field \"", name, "\" is empty"));
  }
  return std::move(**value);
}

absl::StatusOr<double> Number(const json& object, absl::string_view name) {
  const json* value = Find(object, name);
  if (value == nullptr) return Missing(name);
  if (!value->is_number()) return Mistyped(name, "a number");
  return value->get<double>();
}

absl::StatusOr<int64_t> Integer(const json& object, absl::string_view name) {
  const json* value = Find(object, name);
  if (value == nullptr) return Missing(name);
  if (value->is_number_unsigned() &&
      value->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    return Mistyped(name, "an integer in the int64 range");
  }
  if (!value->is_number_integer()) return Mistyped(name, "an integer");
  return value->get<int64_t>();
}

absl::StatusOr<uint64_t> Unsigned(const json& object, absl::string_view name) {
  const json* value = Find(object, name);
  if (value == nullptr) return Missing(name);
  if (!value->is_number_unsigned()) {
    return Mistyped(name, "a non-negative integer");
  }
  return value->get<uint64_t>();
}

absl::StatusOr<std::string> Base64(const json& object, absl::string_view name) {
  absl::StatusOr<std::string> text = String(object, name);
  if (!text.ok()) return text.status();
  return Decode(name, *text);
}

absl::StatusOr<std::optional<std::string>> OptionalString(
    const json& object, absl::string_view name) {
  const json* value = Find(object, name);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) return Mistyped(name, "a string");
  return value->get<std::string>();
}

absl::StatusOr<std::optional<bool>> OptionalBool(const json& object,
                                                 absl::string_view name) {
  const json* value = Find(object, name);
  if (value == nullptr) return std::nullopt;
  if (!value->is_boolean()) return Mistyped(name, "true or false");
  return value->get<bool>();
}

absl::StatusOr<std::optional<std::string>> OptionalBase64(
    const json& object, absl::string_view name) {
  absl::StatusOr<std::optional<std::string>> text =
      OptionalString(object, name);
  if (!text.ok() || !text->has_value()) return text;
  absl::StatusOr<std::string> bytes = Decode(name, **text);
  if (!bytes.ok()) return bytes.status();
  return std::optional<std::string>(std::move(*bytes));
}

bool TooDeep(absl::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

absl::StatusOr<json> ParseObject(absl::string_view text) {
  if (TooDeep(text)) {
    return absl::InvalidArgumentError("body nests too deeply");
  }
  json value = json::parse(text.begin(), text.end(), nullptr,
                           /*allow_exceptions=*/false);
  if (!value.is_object()) {
    return absl::InvalidArgumentError("body must be a JSON object");
  }
  return value;
}

}  // namespace trellis::json_fields
