#include "embed/openai_embedder.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <nlohmann/json.hpp>

#include "net/openai_http.h"

namespace savoir {
namespace {
using json = nlohmann::json;

class OpenAiEmbedder final : public Embedder {
 public:
  explicit OpenAiEmbedder(OpenAiEmbedderConfig c) : c_(std::move(c)), http_(c_.http), once_(OneAttempt(c_.http)) {}

  Status Probe() {
    auto v = Embed({"dimension probe"}, EmbedKind::kPassage);
    if (!v.ok()) return v.status();
    dims_ = static_cast<int>((*v)[0].size());
    return Status::Ok();
  }

  std::string model_id() const override { return "openai:" + c_.base_url + ":" + c_.model; }
  int dimensions() const override { return dims_; }
  size_t max_batch() const override { return c_.max_batch; }

  // Texts longer than the model's context are refused by most servers
  // (llama-server: "input (N tokens) is too large to process"). Like
  // sentence-transformers and TEI's `truncate`, we embed the beginning of
  // such a text: the batch is retried text by text, halving a refused text
  // (on a UTF-8 boundary) until it is accepted, and the accepted length is
  // remembered so later texts are cut before they are sent.
  Result<std::vector<std::vector<float>>> Embed(const std::vector<std::string>& texts, EmbedKind) override {
    std::vector<std::string> cut;
    const std::vector<std::string>* in = &texts;
    if (size_t limit = max_bytes_.load(); limit > 0) {
      cut = texts;
      for (auto& t : cut) t = CutUtf8(t, limit);
      in = &cut;
    }
    auto r = EmbedOnce(*in);
    if (r.ok() || !TooLong(r.status())) return r;
    std::vector<std::vector<float>> out;
    for (const auto& text : *in) {
      std::string t = text;
      for (int attempt = 0;; ++attempt) {
        // The server already answered: no retry with backoff for each cut.
        auto one = EmbedOnce({t}, &once_);
        if (one.ok()) {
          out.push_back(std::move((*one)[0]));
          break;
        }
        if (!TooLong(one.status()) || attempt == 8 || t.size() < 16) return one.status();
        t = CutUtf8(t, t.size() / 2);
        size_t limit = max_bytes_.load();
        while ((limit == 0 || t.size() < limit) && !max_bytes_.compare_exchange_weak(limit, t.size())) {
        }
      }
    }
    return out;
  }

 private:
  static bool TooLong(const Status& st) {
    std::string m = st.message();
    std::transform(m.begin(), m.end(), m.begin(), [](unsigned char c) { return std::tolower(c); });
    for (const char* k : {"too large", "too long", "exceeds", "context length", "maximum context", "max_tokens"})
      if (m.find(k) != std::string::npos) return true;
    return false;
  }

  static std::string CutUtf8(const std::string& s, size_t n) {
    if (s.size() <= n) return s;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return s.substr(0, n);
  }

  static HttpOptions OneAttempt(HttpOptions o) {
    o.max_attempts = 1;
    return o;
  }

  Result<std::vector<std::vector<float>>> EmbedOnce(const std::vector<std::string>& texts,
                                                    HttpClient* client = nullptr) {
    if (!client) client = &http_;
    std::vector<std::vector<float>> out;
    if (texts.empty()) return out;
    if (texts.size() > c_.max_batch)
      return Status(ErrorKind::kInvalidArgument, "embedding batch of " + std::to_string(texts.size()) +
                                                     " texts is larger than " + std::to_string(c_.max_batch));
    json body = {{"model", c_.model}, {"input", texts}, {"encoding_format", "float"}};
    HttpRequest req;
    req.method = "POST";
    req.url = c_.base_url + "/embeddings";
    req.headers = OpenAiHeaders(c_.api_key, false);
    req.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    const std::string what = "POST " + UrlWithoutQuery(req.url);
    SAVOIR_ASSIGN_OR_RETURN(HttpResponse resp, client->Send(req));
    if (resp.status < 200 || resp.status >= 300) return OpenAiHttpError(resp, what);
    auto j = json::parse(resp.body, nullptr, false);
    if (!j.is_object() || !j.contains("data") || !j["data"].is_array())
      return Status(ErrorKind::kUnavailable, what + ": the reply has no `data` list");
    const auto& data = j["data"];
    if (data.size() != texts.size())
      return Status(ErrorKind::kUnavailable, what + ": " + std::to_string(data.size()) + " embeddings for " +
                                                 std::to_string(texts.size()) + " inputs");
    out.resize(texts.size());
    for (size_t i = 0; i < data.size(); ++i) {
      const auto& item = data[i];
      size_t index = i;
      if (item.contains("index") && item["index"].is_number_unsigned()) index = item["index"].get<size_t>();
      if (index >= out.size() || !out[index].empty())
        return Status(ErrorKind::kUnavailable, what + ": bad or repeated embedding index " + std::to_string(index));
      if (!item.contains("embedding") || !item["embedding"].is_array() || item["embedding"].empty())
        return Status(ErrorKind::kUnavailable,
                      what + ": embedding " + std::to_string(index) + " is not a list of floats (base64 not asked for)");
      const json* emb = &item["embedding"];
      // llama-server without pooling answers one vector per token: refuse.
      if ((*emb)[0].is_array())
        return Status(ErrorKind::kUnsupported,
                      what + ": the server returned token embeddings; start it with a pooling type (--pooling mean)");
      std::vector<float>& v = out[index];
      v.reserve(emb->size());
      for (const auto& x : *emb) {
        if (!x.is_number()) return Status(ErrorKind::kUnavailable, what + ": a non-number in embedding " + std::to_string(index));
        v.push_back(x.get<float>());
      }
      double norm = 0;
      for (float x : v) norm += static_cast<double>(x) * x;
      norm = std::sqrt(norm);
      if (!(norm > 0) || !std::isfinite(norm))
        return Status(ErrorKind::kUnavailable, what + ": embedding " + std::to_string(index) + " has no length");
      if (std::fabs(norm - 1.0) > 1e-4)
        for (float& x : v) x = static_cast<float>(x / norm);
      if (dims_ > 0 && static_cast<int>(v.size()) != dims_)
        return Status(ErrorKind::kUnavailable, what + ": " + std::to_string(v.size()) + " dimensions, " +
                                                   std::to_string(dims_) + " expected (did the model change?)");
    }
    return out;
  }

  OpenAiEmbedderConfig c_;
  HttpClient http_;
  HttpClient once_;  // same options, one attempt: for cutting texts
  int dims_ = 0;
  std::atomic<size_t> max_bytes_{0};  // 0: no text refused as too long yet
};

}  // namespace

HttpOptions OpenAiEmbedderConfig::DefaultEmbedHttpOptions() {
  HttpOptions o;
  o.connect_timeout_ms = 5000;
  o.timeout_ms = 120000;
  o.max_attempts = 4;
  o.backoff_base_ms = 500;
  o.backoff_max_ms = 8000;
  o.requests_per_minute = 0;
  o.user_agent = "savoir/0.1";
  return o;
}

Result<std::unique_ptr<Embedder>> MakeOpenAiEmbedder(OpenAiEmbedderConfig config) {
  if (config.max_batch == 0) config.max_batch = 1;
  auto e = std::make_unique<OpenAiEmbedder>(std::move(config));
  SAVOIR_RETURN_IF_ERROR(e->Probe());
  return std::unique_ptr<Embedder>(std::move(e));
}

}  // namespace savoir
