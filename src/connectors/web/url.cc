#include "connectors/web/url.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace savoir::web {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// RFC 3986 5.2.4, on a path starting with '/'.
std::string RemoveDotSegments(const std::string& path) {
  std::vector<std::string> out;
  size_t pos = 1;
  bool trailing = false;
  while (pos <= path.size()) {
    size_t end = path.find('/', pos);
    if (end == std::string::npos) end = path.size();
    std::string seg = path.substr(pos, end - pos);
    trailing = end == path.size() && (seg == "." || seg == "..");
    if (seg == "..") {
      if (!out.empty()) out.pop_back();
    } else if (seg != ".") {
      out.push_back(seg);
    }
    pos = end + 1;
  }
  std::string r;
  for (const auto& seg : out) r += "/" + seg;
  if (r.empty() || trailing) r += "/";
  return r;
}

void SplitPathQuery(const std::string& rest, Url* u) {
  size_t q = rest.find('?');
  u->path = q == std::string::npos ? rest : rest.substr(0, q);
  u->query = q == std::string::npos ? "" : rest.substr(q + 1);
  if (u->path.empty() || u->path[0] != '/') u->path = "/" + u->path;
  u->path = RemoveDotSegments(u->path);
}

std::string StripFragment(const std::string& s) {
  size_t h = s.find('#');
  return h == std::string::npos ? s : s.substr(0, h);
}

}  // namespace

bool ParseUrl(const std::string& raw, Url* out) {
  std::string s = StripFragment(Trim(raw));
  size_t colon = s.find("://");
  if (colon == std::string::npos) return false;
  Url u;
  u.scheme = Lower(s.substr(0, colon));
  if (u.scheme != "http" && u.scheme != "https") return false;
  size_t host_begin = colon + 3;
  size_t host_end = s.find_first_of("/?", host_begin);
  if (host_end == std::string::npos) host_end = s.size();
  u.host = Lower(s.substr(host_begin, host_end - host_begin));
  if (size_t at = u.host.rfind('@'); at != std::string::npos) u.host = u.host.substr(at + 1);
  if (u.host.empty()) return false;
  if (u.scheme == "http" && u.host.size() > 3 && u.host.ends_with(":80")) u.host.resize(u.host.size() - 3);
  if (u.scheme == "https" && u.host.size() > 4 && u.host.ends_with(":443")) u.host.resize(u.host.size() - 4);
  SplitPathQuery(s.substr(host_end), &u);
  *out = std::move(u);
  return true;
}

std::string NormalizeUrl(const std::string& s) {
  Url u;
  return ParseUrl(s, &u) ? u.ToString() : "";
}

std::string ResolveUrl(const Url& base, const std::string& raw) {
  std::string ref = StripFragment(Trim(raw));
  if (ref.empty()) return base.ToString();
  if (ref.rfind("//", 0) == 0) return NormalizeUrl(base.scheme + ":" + ref);
  size_t colon = ref.find(':');
  size_t first_sep = ref.find_first_of("/?");
  if (colon != std::string::npos && (first_sep == std::string::npos || colon < first_sep))
    return NormalizeUrl(ref);  // has a scheme: http(s) kept, mailto: etc. dropped
  Url u = base;
  if (ref[0] == '/') {
    SplitPathQuery(ref, &u);
  } else if (ref[0] == '?') {
    u.query = ref.substr(1);
  } else {
    std::string dir = base.path.substr(0, base.path.rfind('/') + 1);
    SplitPathQuery(dir + ref, &u);
  }
  return u.ToString();
}

}  // namespace savoir::web
