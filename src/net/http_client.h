// The one HTTP client of the program (libcurl), for connectors and remote models:
// timeouts, TLS verification always on, a per-client rate limit (one client per
// source or model endpoint), and retries
// with exponential backoff and jitter on network errors, HTTP 5xx and HTTP
// 429 (honouring Retry-After). Messages name the URL without its query, so
// no credential passed in a query or header ends up in an error.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace savoir {

struct HttpOptions {
  int connect_timeout_ms = 10000;
  int timeout_ms = 60000;             // a whole request
  // Longest silence allowed while a request is under way: no byte sent or
  // received for this long (an endpoint that accepted the connection and
  // never answers, or a stream that stalls) ends the attempt with kTimeout
  // "... stalled: no data for N s". 0: only timeout_ms applies.
  int idle_timeout_ms = 0;
  int max_attempts = 5;               // first try included
  int backoff_base_ms = 500;          // doubled after each failure, up to backoff_max_ms
  int backoff_max_ms = 30000;
  int max_retry_after_s = 300;        // a longer Retry-After fails the request instead
  double requests_per_minute = 50;    // Slack's tier-3 methods allow about 50
  std::string user_agent = "savoir-connector/0.1";
};

struct HttpResponse {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
  bool stopped = false;  // the sink asked to stop reading
};

struct HttpRequest {
  std::string method = "GET";  // "GET", "POST", "PUT", "DELETE"
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
};

// Receives a successful (2xx) response's body as it arrives; return false to
// stop reading (see Send).
using BodySink = std::function<bool(std::string_view chunk)>;

// Thread-safe: one client may serve many threads (the rate limit and the
// statistics are shared under a lock).
class HttpClient {
 public:
  explicit HttpClient(HttpOptions options = {});
  // GET with retries. A final 4xx/5xx is returned as a response (the caller
  // knows what it means); only transport failures and exhausted retries are
  // errors (kUnavailable / kTimeout).
  Result<HttpResponse> Get(const std::string& url, const std::vector<std::string>& headers);
  // Any method, with the same retries. With `sink`, a 2xx body is streamed
  // to it instead of being kept in HttpResponse::body (error bodies are
  // still kept); retries stop once any byte reached the sink. A sink that
  // returns false ends the request early and Send returns the response so
  // far (status 2xx, `stopped` set).
  Result<HttpResponse> Send(const HttpRequest& request, const BodySink& sink = nullptr);

  struct Stats {
    int requests = 0, retries = 0;
    double waited_s = 0;  // in rate limiting and backoff
  };
  Stats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

 private:
  Result<HttpResponse> Once(const HttpRequest& request, const BodySink& sink, bool* streamed);
  void Pace();
  void Sleep(double seconds);
  double Jitter(double cap);

  HttpOptions opt_;
  mutable std::mutex mu_;  // guards stats_, last_request_, rng_
  Stats stats_;
  std::chrono::steady_clock::time_point last_request_{};
  uint64_t rng_;
};

// "https://slack.com/api/conversations.history" from a URL with a query.
std::string UrlWithoutQuery(const std::string& url);
// Percent-encodes a query parameter value.
std::string UrlEncode(const std::string& s);

}  // namespace savoir
