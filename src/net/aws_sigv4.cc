#include "net/aws_sigv4.h"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <map>

namespace savoir {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Trims and collapses runs of whitespace into one space (canonical header values).
std::string CanonicalValue(std::string_view v) {
  std::string out;
  bool space = false;
  for (unsigned char c : v) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += static_cast<char>(c);
  }
  return out;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexDigit(s[i + 1]), lo = HexDigit(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// Non-S3 path normalization: "//" collapsed, "." removed, ".." resolved; then
// each segment encoded (so an already-encoded "%3A" becomes "%253A").
std::string CanonicalPath(const std::string& path) {
  if (path.empty() || path == "/") return "/";
  std::vector<std::string> out;
  size_t start = path[0] == '/' ? 1 : 0;
  bool trailing = path.back() == '/';
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    std::string piece = path.substr(start, slash - start);
    start = slash + 1;
    if (piece.empty() || piece == ".") continue;
    if (piece == "..") {
      if (!out.empty()) out.pop_back();
      continue;
    }
    out.push_back(AwsUriEncode(piece, false));
  }
  std::string result;
  for (const auto& p : out) result += "/" + p;
  if (result.empty() || trailing) result += "/";
  return result;
}

std::string CanonicalQuery(const std::string& query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t start = 0;
  while (start <= query.size() && !query.empty()) {
    size_t amp = query.find('&', start);
    if (amp == std::string::npos) amp = query.size();
    std::string_view piece(query.data() + start, amp - start);
    start = amp + 1;
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    std::string key = PercentDecode(piece.substr(0, eq));
    std::string value = eq == std::string_view::npos ? "" : PercentDecode(piece.substr(eq + 1));
    params.emplace_back(AwsUriEncode(key, false), AwsUriEncode(value, false));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

}  // namespace

std::string HexEncode(std::string_view bytes) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(out, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  return HexEncode(std::string_view(reinterpret_cast<const char*>(out), sizeof out));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(key.data()), key.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  unsigned char out[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&st, out);
  sodium_memzero(&st, sizeof st);
  return std::string(reinterpret_cast<const char*>(out), sizeof out);
}

std::string AwsUriEncode(std::string_view s, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string AmzDate(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

SigV4Signature SigV4Sign(const SigV4Request& request, const AwsCredentials& credentials,
                         const std::string& region, const std::string& service, std::time_t now) {
  SigV4Signature sig;
  // Lower-cased names; duplicate names joined with ',' in the order given.
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : request.headers) {
    std::string key = Lower(name);
    std::string v = CanonicalValue(value);
    auto it = headers.find(key);
    if (it == headers.end()) headers.emplace(key, v);
    else it->second += "," + v;
  }
  if (auto it = headers.find("x-amz-date"); it != headers.end()) {
    sig.amz_date = it->second;
  } else {
    sig.amz_date = AmzDate(now);
    headers["x-amz-date"] = sig.amz_date;
    sig.headers.push_back("X-Amz-Date: " + sig.amz_date);
  }
  if (!credentials.session_token.empty() && !headers.count("x-amz-security-token")) {
    headers["x-amz-security-token"] = credentials.session_token;
    sig.headers.push_back("X-Amz-Security-Token: " + credentials.session_token);
  }
  std::string canonical_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers += name + ":" + value + "\n";
    if (!sig.signed_headers.empty()) sig.signed_headers += ';';
    sig.signed_headers += name;
  }
  std::string method = request.method;
  std::transform(method.begin(), method.end(), method.begin(), [](unsigned char c) { return std::toupper(c); });
  sig.canonical_request = method + "\n" + CanonicalPath(request.path) + "\n" + CanonicalQuery(request.query) +
                          "\n" + canonical_headers + "\n" + sig.signed_headers + "\n" + Sha256Hex(request.body);
  std::string date = sig.amz_date.substr(0, 8);
  std::string scope = date + "/" + region + "/" + service + "/aws4_request";
  sig.string_to_sign = "AWS4-HMAC-SHA256\n" + sig.amz_date + "\n" + scope + "\n" + Sha256Hex(sig.canonical_request);
  std::string key = HmacSha256("AWS4" + credentials.secret_access_key, date);
  key = HmacSha256(key, region);
  key = HmacSha256(key, service);
  key = HmacSha256(key, "aws4_request");
  sig.signature = HexEncode(HmacSha256(key, sig.string_to_sign));
  sodium_memzero(key.data(), key.size());
  sig.authorization = "AWS4-HMAC-SHA256 Credential=" + credentials.access_key_id + "/" + scope +
                      ", SignedHeaders=" + sig.signed_headers + ", Signature=" + sig.signature;
  sig.headers.push_back("Authorization: " + sig.authorization);
  return sig;
}

Status SigV4SignHttpRequest(HttpRequest* request, const AwsCredentials& credentials, const std::string& region,
                            const std::string& service, std::time_t now) {
  const std::string& url = request->url;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    return Status(ErrorKind::kInvalidArgument, "cannot sign a request to '" + UrlWithoutQuery(url) + "': no scheme");
  }
  std::string scheme = Lower(url.substr(0, scheme_end));
  size_t host_start = scheme_end + 3;
  size_t path_start = url.find_first_of("/?#", host_start);
  std::string authority = url.substr(host_start, path_start == std::string::npos ? std::string::npos
                                                                                  : path_start - host_start);
  if (authority.empty() || authority.find('@') != std::string::npos) {
    return Status(ErrorKind::kInvalidArgument, "cannot sign a request to '" + UrlWithoutQuery(url) + "': bad host");
  }
  // curl sends the port in Host only when it is not the scheme's default.
  std::string host = Lower(authority);
  if ((scheme == "https" && host.size() > 4 && host.ends_with(":443")) ||
      (scheme == "http" && host.size() > 3 && host.ends_with(":80"))) {
    host = host.substr(0, host.rfind(':'));
  }
  SigV4Request sr;
  sr.method = request->method;
  std::string rest = path_start == std::string::npos ? "/" : url.substr(path_start);
  rest = rest.substr(0, rest.find('#'));
  size_t q = rest.find('?');
  sr.path = rest.substr(0, q);
  if (sr.path.empty()) sr.path = "/";
  if (q != std::string::npos) sr.query = rest.substr(q + 1);
  sr.body = request->body;
  bool has_host = false;
  for (const auto& h : request->headers) {
    size_t colon = h.find(':');
    if (colon == std::string::npos) continue;
    std::string name = Lower(h.substr(0, colon));
    std::string value = h.substr(colon + 1);
    if (name == "host" || name == "content-type" || name.starts_with("x-amz-")) {
      if (name == "host") has_host = true;
      sr.headers.emplace_back(name, value);
    }
  }
  if (!has_host) sr.headers.emplace_back("host", host);
  SigV4Signature sig = SigV4Sign(sr, credentials, region, service, now);
  for (auto& h : sig.headers) request->headers.push_back(std::move(h));
  return Status::Ok();
}

}  // namespace savoir
