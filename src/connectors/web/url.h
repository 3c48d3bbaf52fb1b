// Small URL helpers for the web connector: resolving links against a page,
// normalising (scheme and host lower-cased, fragment dropped, dot segments
// removed) and comparing hosts. Only http and https URLs are kept.
#pragma once

#include <string>

namespace savoir::web {

struct Url {
  std::string scheme, host;  // host includes ":port" when one is given
  std::string path = "/";    // always starts with '/'
  std::string query;         // without '?'
  std::string Origin() const { return scheme + "://" + host; }
  std::string PathAndQuery() const { return query.empty() ? path : path + "?" + query; }
  std::string ToString() const { return Origin() + PathAndQuery(); }
};

// Parses an absolute http(s) URL; false for anything else.
bool ParseUrl(const std::string& s, Url* out);

// `ref` (as found in an href) resolved against `base`, normalised, fragment
// dropped; "" when it is not an http(s) URL (mailto:, javascript:...).
std::string ResolveUrl(const Url& base, const std::string& ref);

// Normalised form of an absolute URL ("" when not http(s)).
std::string NormalizeUrl(const std::string& s);

}  // namespace savoir::web
