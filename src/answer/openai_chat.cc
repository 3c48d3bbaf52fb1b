#include "answer/openai_chat.h"

#include "answer/chat_markers.h"
#include "common/json_read.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/utf8.h"
#include "net/openai_http.h"

namespace savoir {
namespace {
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// Splits a byte stream into Server-Sent Events and hands each event's data
// (its "data:" lines joined by "\n") to `on_data`.
class SseReader {
 public:
  template <typename F>
  bool Feed(std::string_view bytes, F&& on_data) {
    buf_.append(bytes);
    size_t pos = 0;
    while (true) {
      size_t nl = buf_.find('\n', pos);
      if (nl == std::string::npos) break;
      std::string_view line(buf_.data() + pos, nl - pos);
      pos = nl + 1;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty()) {  // end of an event
        if (has_data_) {
          has_data_ = false;
          std::string d = std::move(data_);
          data_.clear();
          if (!on_data(d)) {
            buf_.erase(0, pos);
            return false;
          }
        }
        continue;
      }
      if (line.rfind("data:", 0) == 0) {
        std::string_view v = line.substr(5);
        if (!v.empty() && v.front() == ' ') v.remove_prefix(1);
        if (has_data_) data_ += '\n';
        data_.append(v);
        has_data_ = true;
      }
      // "event:", "id:", "retry:" and ": comments" carry nothing we use.
    }
    buf_.erase(0, pos);
    return true;
  }
  // A last event not followed by a blank line.
  template <typename F>
  void Finish(F&& on_data) {
    if (!buf_.empty()) Feed("\n", on_data);
    if (has_data_) {
      has_data_ = false;
      on_data(data_);
    }
  }

 private:
  std::string buf_, data_;
  bool has_data_ = false;
};

class OpenAiChat final : public ChatModel {
 public:
  explicit OpenAiChat(OpenAiChatConfig c) : c_(std::move(c)), http_(c_.http) {
    HttpOptions probe = c_.http;
    probe.max_attempts = 1;
    probe.timeout_ms = 3000;
    probe.connect_timeout_ms = 2000;
    probe_http_ = std::make_unique<HttpClient>(probe);
  }

  std::string name() const override { return c_.model; }

  int context_tokens() const override {
    if (c_.context_tokens > 0) return c_.context_tokens;
    std::lock_guard<std::mutex> lock(probe_mu_);
    if (probed_ctx_ > 0) return probed_ctx_;
    auto now = Clock::now();
    if (probe_tried_ && now - last_probe_ < std::chrono::seconds(30)) return 0;
    probe_tried_ = true;
    last_probe_ = now;
    probed_ctx_ = ProbeContext();
    return probed_ctx_;
  }

  int CountTokens(std::string_view text) const override { return static_cast<int>((text.size() + 3) / 4); }

  Result<ChatUsage> Chat(const std::vector<ChatMessage>& messages, const ChatOptions& options,
                         const TokenSink& sink) override {
    Result<ChatUsage> r = Once(messages, options, sink, include_usage_.load());
    // Some servers refuse stream_options; ask once without it and remember.
    if (!r.ok() && r.status().kind() == ErrorKind::kInvalidArgument && include_usage_.load() &&
        r.status().message().find("stream_options") != std::string::npos) {
      include_usage_ = false;
      r = Once(messages, options, sink, false);
    }
    return r;
  }

 private:
  int ProbeContext() const {
    // llama-server: GET /props (beside /v1) -> default_generation_settings.n_ctx.
    std::string root = c_.base_url;
    if (root.size() > 3 && root.compare(root.size() - 3, 3, "/v1") == 0) root.resize(root.size() - 3);
    auto headers = OpenAiHeaders(c_.api_key, false);
    if (auto r = probe_http_->Get(root + "/props", headers); r.ok() && r->status == 200) {
      auto j = json::parse(r->body, nullptr, false);
      if (j.is_object()) {
        for (const json* o : {&j, j.contains("default_generation_settings") ? &j["default_generation_settings"] : nullptr})
          if (o && o->is_object() && o->contains("n_ctx") && (*o)["n_ctx"].is_number_integer())
            return (*o)["n_ctx"].get<int>();
      }
    }
    // vLLM: GET /v1/models -> data[].max_model_len.
    if (auto r = probe_http_->Get(c_.base_url + "/models", headers); r.ok() && r->status == 200) {
      auto j = json::parse(r->body, nullptr, false);
      if (j.is_object() && j.contains("data") && j["data"].is_array())
        for (const auto& m : j["data"])
          if (m.is_object() && JsonString(m, "id") == c_.model && m.contains("max_model_len") &&
              m["max_model_len"].is_number_integer())
            return m["max_model_len"].get<int>();
    }
    return 0;
  }

  Result<ChatUsage> Once(const std::vector<ChatMessage>& messages, const ChatOptions& options,
                         const TokenSink& sink, bool include_usage) {
    json msgs = json::array();
    int64_t prompt_estimate = 0;
    for (const auto& m : messages) {
      msgs.push_back({{"role", m.role}, {"content", DefangChatMarkers(m.content)}});  // chat_markers.h
      prompt_estimate += CountTokens(m.content) + 4;
    }
    json body = {{"model", c_.model}, {"messages", std::move(msgs)}, {"stream", true},
                 {"max_tokens", options.max_tokens}, {"temperature", options.temperature}};
    if (!options.stop.empty()) body["stop"] = options.stop;
    if (include_usage) body["stream_options"] = {{"include_usage", true}};

    HttpRequest req;
    req.method = "POST";
    req.url = c_.base_url + "/chat/completions";
    req.headers = OpenAiHeaders(c_.api_key, true);
    req.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    const std::string what = "POST " + UrlWithoutQuery(req.url);

    ChatUsage usage;
    usage.model = c_.model;
    int64_t chunks = 0;
    bool done = false, cancelled = false, got_usage = false;
    Status stream_error;
    auto t0 = Clock::now();
    SseReader sse;
    auto on_data = [&](const std::string& data) -> bool {
      if (data == "[DONE]") {
        done = true;
        return false;
      }
      auto j = json::parse(data, nullptr, false);
      if (!j.is_object()) {
        stream_error = Status(ErrorKind::kUnavailable, what + ": malformed stream event: " +
                                                           std::string(TruncateUtf8(data, 120)));
        return false;
      }
      if (j.contains("error")) {
        stream_error = Status(ErrorKind::kUnavailable, what + ": " + ServerErrorMessage(data));
        return false;
      }
      if (j.contains("usage") && j["usage"].is_object()) {
        const auto& u = j["usage"];
        if (u.contains("prompt_tokens") && u["prompt_tokens"].is_number_integer()) {
          usage.prompt_tokens = u["prompt_tokens"].get<int64_t>();
          got_usage = true;
        }
        if (u.contains("completion_tokens") && u["completion_tokens"].is_number_integer())
          usage.completion_tokens = u["completion_tokens"].get<int64_t>();
      }
      if (j.contains("choices") && j["choices"].is_array() && !j["choices"].empty()) {
        const auto& c = j["choices"][0];
        if (c.contains("finish_reason") && c["finish_reason"].is_string())
          usage.finish_reason = c["finish_reason"].get<std::string>();
        if (c.contains("delta") && c["delta"].is_object()) {
          const auto& d = c["delta"];
          if (d.contains("content") && d["content"].is_string()) {
            const std::string& text = d["content"].get_ref<const std::string&>();
            if (!text.empty()) {
              if (chunks++ == 0) usage.first_token_ms = MsSince(t0);
              if (!sink(text)) {
                cancelled = true;
                return false;
              }
            }
          }
        }
      }
      return true;
    };
    auto resp = http_.Send(req, [&](std::string_view bytes) { return sse.Feed(bytes, on_data); });
    if (!resp.ok()) {
      // Bytes already streamed cannot be retried; say how far it got.
      return Status(ErrorKind::kUnavailable, resp.status().message());
    }
    if (resp->status < 200 || resp->status >= 300) return OpenAiHttpError(*resp, what);
    if (!done && !cancelled && stream_error.ok()) sse.Finish(on_data);
    if (!stream_error.ok()) return stream_error;
    if (!done && !cancelled && usage.finish_reason.empty())
      return Status(ErrorKind::kUnavailable, what + ": the stream ended before [DONE]");
    usage.latency_ms = MsSince(t0);
    if (cancelled) usage.finish_reason = "cancelled";
    if (!got_usage) {
      usage.prompt_tokens = prompt_estimate;
      usage.completion_tokens = chunks;
    }
    return usage;
  }

  OpenAiChatConfig c_;
  HttpClient http_;
  std::unique_ptr<HttpClient> probe_http_;
  std::atomic<bool> include_usage_{true};
  mutable std::mutex probe_mu_;
  mutable int probed_ctx_ = 0;
  mutable bool probe_tried_ = false;
  mutable Clock::time_point last_probe_{};
};

}  // namespace

HttpOptions OpenAiChatConfig::DefaultChatHttpOptions() {
  HttpOptions o;
  o.connect_timeout_ms = 5000;
  o.timeout_ms = 300000;
  o.max_attempts = 2;
  o.backoff_base_ms = 300;
  o.backoff_max_ms = 1000;
  o.max_retry_after_s = 2;
  o.requests_per_minute = 0;
  o.user_agent = "savoir/0.1";
  return o;
}

std::unique_ptr<ChatModel> MakeOpenAiChat(OpenAiChatConfig config) {
  return std::make_unique<OpenAiChat>(std::move(config));
}

}  // namespace savoir
