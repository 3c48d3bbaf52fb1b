// The OpenAI-compatible API, so that existing chat clients and SDKs can use
// Savoir: GET /v1/models and POST /v1/chat/completions (stream and not).
// A "model" names an assistant; there is one, `savoir`. Answers cite [n] and
// the numbered sources ride along in an extra `sources` field.
#include <chrono>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>

#include "server/answering.h"
#include "server/http_errors.h"
#include "server/request_context.h"
#include "server/retrieval.h"
#include "server/server.h"
#include "server/sse.h"

namespace savoir {
namespace {
using json = nlohmann::json;

constexpr const char* kAssistant = "savoir";

std::string CompletionId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[32];
  std::snprintf(buf, sizeof buf, "chatcmpl-%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

json SourcesJson(const Retrieval& r) {
  json out = ResultsJson(r);
  for (size_t i = 0; i < out.size(); ++i) out[i]["n"] = i + 1;  // what [n] in the answer refers to
  return out;
}

// The language model's tokens for this answer (zeros for an extractive
// answer: no model tokens were spent), with Savoir's own figures beside them.
json OpenAiUsage(const AnswerUsage& u) {
  return {{"prompt_tokens", u.prompt_tokens}, {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens},
          {"savoir", UsageJson(u)}};
}

struct CompletionRun {
  OpenAiChatParams params;
  Retrieval retrieval;
  std::string id = CompletionId();
  int64_t created = std::time(nullptr);
};

json Chunk(const CompletionRun& run, json delta, json finish_reason) {
  return {{"id", run.id}, {"object", "chat.completion.chunk"}, {"created", run.created}, {"model", kAssistant},
          {"choices", json::array({{{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", finish_reason}}})}};
}

void StreamCompletion(ServerContext& ctx, const CompletionRun& run, SseStream& out) {
  json first = Chunk(run, {{"role", "assistant"}, {"content", ""}}, nullptr);
  first["sources"] = SourcesJson(run.retrieval);
  if (!out.Data(DumpJson(first))) return;
  auto answer = GenerateAnswer(ctx, run.params.query, run.params.history, run.retrieval, [&](std::string_view d) {
    return out.Data(DumpJson(Chunk(run, {{"content", d}}, nullptr)));
  });
  if (!out.open()) return;
  if (!answer.ok()) {
    // OpenAI streams report a failure after the status line as an error object.
    out.Data(DumpJson(ErrorBody(answer.status(), ErrorStyle::kOpenAi)));
  } else {
    json last = Chunk(run, json::object(), "stop");
    if (!answer->notice.empty()) last["notice"] = answer->notice;
    if (!out.Data(DumpJson(last))) return;
    if (run.params.include_usage) {
      // As OpenAI does: a last chunk with empty choices and the usage.
      json u = Chunk(run, json::object(), nullptr);
      u["choices"] = json::array();
      u["usage"] = OpenAiUsage(answer->usage);
      if (!out.Data(DumpJson(u))) return;
    }
  }
  out.Data("[DONE]");
}

Status Completions(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto run = std::make_shared<CompletionRun>();
  SAVOIR_ASSIGN_OR_RETURN(json body, ParseJsonObject(req.body));
  SAVOIR_ASSIGN_OR_RETURN(run->params, ParseOpenAiChat(body, ctx.limits));
  if (run->params.model != kAssistant) {
    WriteError(res, Status(ErrorKind::kNotFound, "The model '" + run->params.model + "' does not exist; use '" +
                                                     kAssistant + "' (see GET /v1/models)"),
               ErrorStyle::kOpenAi, "model_not_found");
    return Status::Ok();
  }
  RequestContext rc = RequestContextFor(req);
  const size_t k = 8;
  const std::string query = RetrievalQuery(ctx, run->params.query, run->params.history);  // may ask the model
  {
    WorkGate::Pass pass(ctx.gate.get());
    SAVOIR_ASSIGN_OR_RETURN(run->retrieval, Retrieve(*ctx.engine, query, rc.principal, SearchFilters{}, k));
  }
  if (run->params.stream) {
    StreamEvents(res, [&ctx, run](SseStream& out) { StreamCompletion(ctx, *run, out); });
    return Status::Ok();
  }
  SAVOIR_ASSIGN_OR_RETURN(Answer answer, GenerateAnswer(ctx, run->params.query, run->params.history, run->retrieval,
                                                        [](std::string_view) { return true; }));
  json reply = {{"id", run->id},
                  {"object", "chat.completion"},
                  {"created", run->created},
                  {"model", kAssistant},
                  {"choices", json::array({{{"index", 0},
                                            {"message", {{"role", "assistant"}, {"content", answer.text}}},
                                            {"finish_reason", "stop"}}})},
                  {"usage", OpenAiUsage(answer.usage)},
                  {"sources", SourcesJson(run->retrieval)}};
  if (!answer.notice.empty()) reply["notice"] = answer.notice;
  WriteJson(res, reply);
  return Status::Ok();
}

}  // namespace

void AddOpenAiRoutes(httplib::Server& server, ServerContext& ctx) {
  const ErrorStyle s = ErrorStyle::kOpenAi;
  server.Get("/v1/models", Guarded(s, [](const httplib::Request&, httplib::Response& res) {
               WriteJson(res, {{"object", "list"},
                               {"data", json::array({{{"id", kAssistant}, {"object", "model"},
                                                      {"created", 0}, {"owned_by", "savoir"}}})}});
               return Status::Ok();
             }));
  server.Post("/v1/chat/completions", Guarded(s, [&ctx](const httplib::Request& req, httplib::Response& res) {
                return Completions(ctx, req, res);
              }));
}

}  // namespace savoir
