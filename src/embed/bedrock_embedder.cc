#include "embed/bedrock_embedder.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <optional>
#include <thread>

namespace savoir {
namespace {

using Json = nlohmann::json;

Result<std::vector<float>> ToUnitVector(const Json& j, const std::string& what) {
  if (!j.is_array() || j.empty()) return Status(ErrorKind::kUnavailable, what + ": no embedding in the answer");
  std::vector<float> v;
  v.reserve(j.size());
  double norm = 0;
  for (const auto& x : j) {
    if (!x.is_number()) return Status(ErrorKind::kUnavailable, what + ": the embedding holds a non-number");
    float f = x.get<float>();
    v.push_back(f);
    norm += double{f} * f;
  }
  if (norm > 0) {
    float inv = static_cast<float>(1.0 / std::sqrt(norm));
    for (float& f : v) f *= inv;
  }
  return v;
}

}  // namespace

BedrockEmbedder::BedrockEmbedder(BedrockEmbedderConfig config, std::shared_ptr<BedrockRuntime> runtime)
    : config_(std::move(config)), runtime_(std::move(runtime)) {
  cohere_ = config_.model_id.starts_with("cohere.embed") || config_.model_id.find(".cohere.embed") != std::string::npos;
  titan_v1_ = config_.model_id.starts_with("amazon.titan-embed-text-v1");
}

Result<std::unique_ptr<BedrockEmbedder>> BedrockEmbedder::Create(BedrockEmbedderConfig config,
                                                                 std::shared_ptr<BedrockRuntime> runtime) {
  const std::string& id = config.model_id;
  if (!(id.find("cohere.embed") != std::string::npos || id.find("amazon.titan-embed") != std::string::npos)) {
    return Status(ErrorKind::kUnsupported, "Bedrock embedding model '" + id +
                                               "' is neither Amazon Titan (amazon.titan-embed-*) nor Cohere (cohere.embed-*)");
  }
  std::unique_ptr<BedrockEmbedder> e(new BedrockEmbedder(std::move(config), std::move(runtime)));
  auto probe = e->Embed({"dimension probe"}, EmbedKind::kQuery);
  if (!probe.ok()) return probe.status();
  e->dimensions_ = static_cast<int>(probe->at(0).size());
  return e;
}

std::string BedrockEmbedder::model_id() const {
  std::string id = "bedrock:" + config_.model_id;
  if (config_.dimensions > 0) id += ":" + std::to_string(config_.dimensions);
  return id;
}

Result<std::vector<float>> BedrockEmbedder::EmbedTitan(const std::string& text) {
  Json body = {{"inputText", text}};
  if (!titan_v1_) {
    body["normalize"] = true;
    if (config_.dimensions > 0) body["dimensions"] = config_.dimensions;
  }
  auto resp = runtime_->Post(config_.model_id, "invoke",
                             body.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
  if (!resp.ok()) return resp.status();
  Json j = Json::parse(resp->body, nullptr, false);
  if (!j.is_object() || !j.contains("embedding")) {
    return Status(ErrorKind::kUnavailable, "Bedrock " + config_.model_id + " answered without an embedding");
  }
  return ToUnitVector(j["embedding"], "Bedrock " + config_.model_id);
}

Result<std::vector<std::vector<float>>> BedrockEmbedder::EmbedCohere(const std::vector<std::string>& texts,
                                                                     EmbedKind kind) {
  Json body = {{"texts", texts},
               {"input_type", kind == EmbedKind::kQuery ? "search_query" : "search_document"},
               {"truncate", "END"}};
  auto resp = runtime_->Post(config_.model_id, "invoke",
                             body.dump(-1, ' ', false, Json::error_handler_t::replace), "application/json");
  if (!resp.ok()) return resp.status();
  Json j = Json::parse(resp->body, nullptr, false);
  std::string what = "Bedrock " + config_.model_id;
  if (!j.is_object() || !j.contains("embeddings")) return Status(ErrorKind::kUnavailable, what + " answered without embeddings");
  Json list = j["embeddings"];
  // embedding_types answers: {"float": [[...], ...]}.
  if (list.is_object() && list.contains("float")) list = list["float"];
  if (!list.is_array() || list.size() != texts.size()) {
    return Status(ErrorKind::kUnavailable, what + " returned " + std::to_string(list.is_array() ? list.size() : 0) +
                                               " embeddings for " + std::to_string(texts.size()) + " texts");
  }
  std::vector<std::vector<float>> out;
  for (const auto& e : list) {
    auto v = ToUnitVector(e, what);
    if (!v.ok()) return v.status();
    out.push_back(std::move(*v));
  }
  return out;
}

Result<std::vector<std::vector<float>>> BedrockEmbedder::Embed(const std::vector<std::string>& texts, EmbedKind kind) {
  std::vector<std::vector<float>> out;
  if (texts.empty()) return out;
  if (texts.size() > max_batch()) {
    return Status(ErrorKind::kInvalidArgument, "a batch of " + std::to_string(texts.size()) + " texts is over " +
                                                   std::to_string(max_batch()) + " for " + config_.model_id);
  }
  if (cohere_) return EmbedCohere(texts, kind);
  // One call per text, `concurrency` of them in flight (the runtime's HTTP
  // client is thread-safe); results kept in input order.
  std::vector<std::optional<Result<std::vector<float>>>> results(texts.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next.fetch_add(1)) < texts.size();) {
      results[i] = EmbedTitan(texts[i].empty() ? std::string(" ") : texts[i]);  // Titan refuses empty input
    }
  };
  size_t workers = std::min<size_t>(std::max(1, config_.concurrency), texts.size());
  std::vector<std::thread> pool;
  for (size_t w = 1; w < workers; ++w) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  for (auto& r : results) {
    if (!r->ok()) return r->status();
    out.push_back(std::move(r->value()));
  }
  for (const auto& v : out) {
    if (dimensions_ && static_cast<int>(v.size()) != dimensions_) {
      return Status(ErrorKind::kUnavailable, "Bedrock " + config_.model_id + " returned " + std::to_string(v.size()) +
                                                 " dimensions instead of " + std::to_string(dimensions_));
    }
  }
  return out;
}

Result<std::unique_ptr<Embedder>> MakeBedrockEmbedder(const Config& config) {
  if (config.embed_model.empty()) {
    return Status(ErrorKind::kInvalidArgument, "--embedder bedrock needs --embed-model (e.g. amazon.titan-embed-text-v2:0)");
  }
  auto runtime = MakeBedrockRuntime(config.aws_region, config.bedrock_endpoint, config.model_idle_timeout_s * 1000,
                                    config.aws_sts_endpoint);
  if (!runtime.ok()) return runtime.status();
  BedrockEmbedderConfig bc;
  bc.model_id = config.embed_model;
  auto e = BedrockEmbedder::Create(bc, *runtime);
  if (!e.ok()) return e.status();
  return std::unique_ptr<Embedder>(std::move(*e));
}

}  // namespace savoir
