// Typed reads of JSON that came from outside (connector payloads, saved
// checkpoints): a missing key, a null or a value of another type gives the
// default instead of throwing. nlohmann's `j.value(key, default)` throws
// type_error when the key holds another type ("ok": "true"), which from a
// hostile or buggy server would end the process.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

namespace savoir {

inline const nlohmann::json* JsonField(const nlohmann::json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

inline std::string JsonString(const nlohmann::json& j, const char* key, const std::string& fallback = "") {
  const nlohmann::json* v = JsonField(j, key);
  return v && v->is_string() ? v->get<std::string>() : fallback;
}

inline bool JsonBool(const nlohmann::json& j, const char* key, bool fallback = false) {
  const nlohmann::json* v = JsonField(j, key);
  return v && v->is_boolean() ? v->get<bool>() : fallback;
}

// Integers as they are; finite floating-point numbers truncated and clamped
// to int64_t.
inline int64_t JsonInt(const nlohmann::json& j, const char* key, int64_t fallback = 0) {
  const nlohmann::json* v = JsonField(j, key);
  if (!v) return fallback;
  if (v->is_number_integer()) return v->get<int64_t>();
  if (v->is_number_unsigned()) {
    uint64_t u = v->get<uint64_t>();
    return u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max()
                                                                          : static_cast<int64_t>(u);
  }
  if (v->is_number_float()) {
    double d = v->get<double>();
    if (!std::isfinite(d)) return fallback;
    if (d >= 9.2e18) return std::numeric_limits<int64_t>::max();
    if (d <= -9.2e18) return std::numeric_limits<int64_t>::min();
    return static_cast<int64_t>(d);
  }
  return fallback;
}

// The object at `key`, or an empty object.
inline const nlohmann::json& JsonObject(const nlohmann::json& j, const char* key) {
  static const nlohmann::json empty = nlohmann::json::object();
  const nlohmann::json* v = JsonField(j, key);
  return v && v->is_object() ? *v : empty;
}

}  // namespace savoir
