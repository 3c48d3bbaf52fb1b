// POST /api/chat: retrieval, then the answer as Server-Sent Events in the
// order the web UI expects: sources, delta..., citations, done (or error).
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>

#include "server/answering.h"
#include "server/http_errors.h"
#include "server/request_context.h"
#include "server/retrieval.h"
#include "server/server.h"
#include "server/sse.h"

namespace savoir {
namespace {
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct ChatRun {
  ChatParams params;
  Retrieval retrieval;
  Clock::time_point started;
  double retrieve_ms = 0;
};

void StreamAnswer(ServerContext& ctx, const ChatRun& run, SseStream& out) {
  if (!out.Event("sources", {{"results", ResultsJson(run.retrieval)}})) return;
  auto t0 = Clock::now();
  auto answer = GenerateAnswer(ctx, run.params.search.query, run.params.history, run.retrieval,
                               [&](std::string_view delta) { return out.Event("delta", {{"text", delta}}); });
  if (!out.open()) return;  // the client left; the generator has stopped
  if (!answer.ok()) {
    out.Event("error", {{"code", ErrorKindName(answer.status().kind())}, {"message", answer.status().message()}});
    return;
  }
  double answer_ms = MillisecondsSince(t0);
  json citations = json::array();
  for (const auto& c : answer->citations) citations.push_back(CitationJson(c));
  if (!out.Event("citations", {{"citations", citations}})) return;
  out.Event("done", {{"mode", answer->mode},
                     {"model", answer->model.empty() ? json(nullptr) : json(answer->model)},
                     {"timings", {{"retrieve_ms", run.retrieve_ms},
                                  {"answer_ms", answer_ms},
                                  {"total_ms", MillisecondsSince(run.started)}}},
                     {"notice", answer->notice.empty() ? json(nullptr) : json(answer->notice)},
                     {"usage", UsageJson(answer->usage)}});
}

Status Chat(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto run = std::make_shared<ChatRun>();
  run->started = Clock::now();
  SAVOIR_ASSIGN_OR_RETURN(json body, ParseJsonObject(req.body));
  SAVOIR_ASSIGN_OR_RETURN(run->params, ParseChatParams(body, ctx.limits));
  RequestContext rc = RequestContextFor(req);
  // Retrieval runs before the stream opens so that its failures are plain
  // HTTP errors; only the answer's failures travel as `error` events.
  const SearchParams& p = run->params.search;
  const std::string query = RetrievalQuery(ctx, p.query, run->params.history);  // may ask the model
  {
    WorkGate::Pass pass(ctx.gate.get());
    SAVOIR_ASSIGN_OR_RETURN(run->retrieval, Retrieve(*ctx.engine, query, rc.principal, p.filters, p.k));
  }
  run->retrieve_ms = MillisecondsSince(run->started);
  StreamEvents(res, [&ctx, run](SseStream& out) { StreamAnswer(ctx, *run, out); });
  return Status::Ok();
}

}  // namespace

void AddChatRoutes(httplib::Server& server, ServerContext& ctx) {
  server.Post("/api/chat", Guarded(ErrorStyle::kSavoir, [&ctx](const httplib::Request& req, httplib::Response& res) {
                return Chat(ctx, req, res);
              }));
}

}  // namespace savoir
