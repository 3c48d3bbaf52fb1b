// AWS Signature Version 4 (header signing) for requests to AWS services
// (Bedrock runtime, STS). Follows the published algorithm: canonical request
// (method, normalized and re-encoded path, sorted query, sorted lower-cased
// headers with trimmed values, signed header list, SHA-256 of the payload),
// string to sign, the derived signing key (HMAC chain over date, region,
// service, "aws4_request"), and the Authorization header. Session
// credentials add a signed X-Amz-Security-Token header. SHA-256 and HMAC come
// from libsodium.
#pragma once

#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "net/http_client.h"

namespace savoir {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term keys
  std::time_t expiration = 0;  // 0: does not expire
  std::string source;          // where they came from ("environment", "profile default"...); never a secret
};

struct SigV4Request {
  std::string method = "GET";
  // Path as sent on the wire (already percent-encoded where needed, e.g.
  // "/model/amazon.titan-embed-text-v2%3A0/invoke"). For all services but S3
  // the canonical path encodes it once more, as the AWS SDKs do.
  std::string path = "/";
  std::string query;  // raw query string without '?', e.g. "a=1&b=x%20y"
  // Headers to sign (must include "host"); names in any case.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct SigV4Signature {
  std::string amz_date;           // "20150830T123600Z"
  std::string canonical_request;
  std::string string_to_sign;
  std::string signed_headers;     // "content-type;host;x-amz-date"
  std::string signature;          // hex
  std::string authorization;      // the Authorization header value
  // Headers to add to the request: X-Amz-Date, X-Amz-Security-Token (session
  // credentials), Authorization. "Name: value" form, as HttpRequest wants.
  std::vector<std::string> headers;
};

// Signs `request` at time `now` (UTC). X-Amz-Date (and the session token)
// are added to the signed headers unless `request` already has them.
SigV4Signature SigV4Sign(const SigV4Request& request, const AwsCredentials& credentials,
                         const std::string& region, const std::string& service, std::time_t now);

// Signs an HttpRequest in place for `service` in `region`: parses its URL
// (host, port, path, query), signs host, content-type (when set) and the
// X-Amz headers, and appends X-Amz-Date, X-Amz-Security-Token and
// Authorization to its headers.
Status SigV4SignHttpRequest(HttpRequest* request, const AwsCredentials& credentials,
                            const std::string& region, const std::string& service, std::time_t now);

// Building blocks, exposed for tests and the event stream / STS code.
std::string Sha256Hex(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);  // raw 32 bytes
std::string HexEncode(std::string_view bytes);
// RFC 3986 percent-encoding (unreserved characters kept; '/' kept when
// keep_slash).
std::string AwsUriEncode(std::string_view s, bool keep_slash);
// "20150830T123600Z".
std::string AmzDate(std::time_t t);

}  // namespace savoir
