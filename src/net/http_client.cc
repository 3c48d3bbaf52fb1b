#include "net/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <thread>

namespace savoir {
namespace {

// Last time a byte went either way, for the idle-read timeout.
struct Activity {
  std::chrono::steady_clock::time_point last = std::chrono::steady_clock::now();
  curl_off_t down = 0, up = 0;
  int idle_ms = 0;
  bool stalled = false;
};

struct HeaderTarget {
  std::map<std::string, std::string>* headers;
  Activity* activity;
};

// Called by curl about once a second even when nothing moves; a non-zero
// return aborts the transfer (CURLE_ABORTED_BY_CALLBACK).
int OnProgress(void* p, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t ulnow) {
  auto* a = static_cast<Activity*>(p);
  auto now = std::chrono::steady_clock::now();
  if (dlnow != a->down || ulnow != a->up) {
    a->down = dlnow;
    a->up = ulnow;
    a->last = now;
    return 0;
  }
  if (a->idle_ms > 0 && now - a->last >= std::chrono::milliseconds(a->idle_ms)) {
    a->stalled = true;
    return 1;
  }
  return 0;
}

size_t OnHeader(char* data, size_t size, size_t n, void* p) {
  auto* target = static_cast<HeaderTarget*>(p);
  target->activity->last = std::chrono::steady_clock::now();
  auto* out = target->headers;
  std::string line(data, size * n);
  size_t colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.pop_back();
    value.erase(0, value.find_first_not_of(' '));
    (*out)[name] = value;
  }
  return size * n;
}

}  // namespace

std::string UrlWithoutQuery(const std::string& url) { return url.substr(0, url.find('?')); }

std::string UrlEncode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

HttpClient::HttpClient(HttpOptions options)
    : opt_(std::move(options)),
      rng_(static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) | 1) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

void HttpClient::Sleep(double seconds) {
  if (seconds <= 0) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stats_.waited_s += seconds;
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

// Spaces request starts evenly: politer to the server than bursts followed
// by 429s, and keeps each source within its own budget. Threads sharing a
// client take their turns under the lock.
void HttpClient::Pace() {
  if (opt_.requests_per_minute <= 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto interval = std::chrono::duration<double>(60.0 / opt_.requests_per_minute);
  auto now = std::chrono::steady_clock::now();
  if (last_request_.time_since_epoch().count() != 0) {
    auto due = last_request_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval);
    if (due > now) {
      double s = std::chrono::duration<double>(due - now).count();
      stats_.waited_s += s;
      std::this_thread::sleep_for(std::chrono::duration<double>(s));
    }
  }
  last_request_ = std::chrono::steady_clock::now();
}

// Exponential backoff with "equal jitter": half fixed, half random, so many
// clients that failed together do not retry together.
double HttpClient::Jitter(double cap) {
  std::lock_guard<std::mutex> lock(mu_);
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  return cap / 2 + cap / 2 * static_cast<double>(rng_ % 1000) / 1000.0;
}

namespace {

struct BodyTarget {
  CURL* curl = nullptr;
  HttpResponse* response = nullptr;
  const BodySink* sink = nullptr;
  bool* streamed = nullptr;
  Activity* activity = nullptr;
};

size_t OnBodyTo(char* data, size_t size, size_t n, void* p) {
  auto* t = static_cast<BodyTarget*>(p);
  size_t len = size * n;
  t->activity->last = std::chrono::steady_clock::now();
  if (t->sink && *t->sink) {
    long status = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) {
      *t->streamed = true;
      if (!(*t->sink)(std::string_view(data, len))) {
        t->response->stopped = true;
        return 0;  // makes curl end the transfer (CURLE_WRITE_ERROR)
      }
      return len;
    }
  }
  t->response->body.append(data, len);
  return len;
}

}  // namespace

Result<HttpResponse> HttpClient::Once(const HttpRequest& req, const BodySink& sink, bool* streamed) {
  CURL* curl = curl_easy_init();
  if (!curl) return Status(ErrorKind::kInternal, "cannot create an HTTP handle");
  HttpResponse r;
  Activity activity;
  activity.idle_ms = opt_.idle_timeout_ms;
  BodyTarget target{curl, &r, &sink, streamed, &activity};
  HeaderTarget header_target{&r.headers, &activity};
  curl_slist* list = nullptr;
  for (const auto& h : req.headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  if (req.method == "POST" || req.method == "PUT" || !req.body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  }
  if (req.method != "GET" && req.method != "POST") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBodyTo);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &target);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &header_target);
  if (opt_.idle_timeout_ms > 0) {
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &activity);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  }
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(opt_.connect_timeout_ms));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(opt_.timeout_ms));
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM (threads)
  curl_easy_setopt(curl, CURLOPT_USERAGENT, opt_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  if (rc == CURLE_WRITE_ERROR && r.stopped) return r;
  if (rc == CURLE_ABORTED_BY_CALLBACK && activity.stalled) {
    char secs[32];
    std::snprintf(secs, sizeof secs, "%g", opt_.idle_timeout_ms / 1000.0);
    return Status(ErrorKind::kTimeout, req.method + " " + UrlWithoutQuery(req.url) + " stalled: no data for " + secs +
                                           " s " + (r.status ? "in the middle of the response" : "before any answer") +
                                           " (idle-read timeout)");
  }
  if (rc != CURLE_OK) {
    ErrorKind kind = rc == CURLE_OPERATION_TIMEDOUT ? ErrorKind::kTimeout : ErrorKind::kUnavailable;
    return Status(kind, req.method + " " + UrlWithoutQuery(req.url) + ": " + curl_easy_strerror(rc));
  }
  return r;
}

Result<HttpResponse> HttpClient::Get(const std::string& url, const std::vector<std::string>& headers) {
  HttpRequest req;
  req.url = url;
  req.headers = headers;
  return Send(req);
}

Result<HttpResponse> HttpClient::Send(const HttpRequest& req, const BodySink& sink) {
  const std::string what = req.method + " " + UrlWithoutQuery(req.url);
  Status last = Status(ErrorKind::kUnavailable, what + ": no attempt made");
  for (int attempt = 0; attempt < opt_.max_attempts; ++attempt) {
    Pace();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (attempt > 0) ++stats_.retries;
      ++stats_.requests;
    }
    bool streamed = false;
    auto r = Once(req, sink, &streamed);
    // Bytes already handed to the reader cannot be taken back: no retry.
    if (streamed) return r;
    double wait = -1;
    if (r.ok()) {
      if (r->status == 429) {
        last = Status(ErrorKind::kUnavailable, what + ": rate limited (HTTP 429)");
        if (auto it = r->headers.find("retry-after"); it != r->headers.end()) {
          double s = std::atof(it->second.c_str());
          if (s > opt_.max_retry_after_s)
            return Status(ErrorKind::kUnavailable, what + ": rate limited for " + it->second + " s (Retry-After)");
          wait = std::max(0.0, s);
        }
      } else if (r->status >= 500) {
        // The server's own words (first 300 bytes) say what went wrong.
        std::string said = r->body.substr(0, 300);
        for (char& c : said)
          if (static_cast<unsigned char>(c) < 0x20) c = ' ';
        last = Status(ErrorKind::kUnavailable,
                      what + ": HTTP " + std::to_string(r->status) + (said.empty() ? "" : ": " + said));
      } else {
        return r;
      }
    } else {
      last = r.status();
    }
    if (attempt + 1 == opt_.max_attempts) break;
    if (wait < 0)
      wait = Jitter(std::min<double>(opt_.backoff_max_ms, opt_.backoff_base_ms * std::pow(2.0, attempt)) / 1000.0);
    Sleep(wait);
  }
  return Status(last.kind(), last.message() + " (gave up after " + std::to_string(opt_.max_attempts) + " attempts)");
}

}  // namespace savoir
