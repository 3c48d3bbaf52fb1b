// The JSON API the web UI speaks (tests/js/mock-server.mjs is its executable
// contract): health, who am I, sources, search and documents.
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "server/http_errors.h"
#include "server/request_context.h"
#include "connectors/sources.h"
#include "server/retrieval.h"
#include "server/scheduler.h"
#include "server/server.h"

namespace savoir {
namespace {
using json = nlohmann::json;

Result<int64_t> ParseId(const std::string& text, const char* what) {
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end || errno || v <= 0)
    return Status(ErrorKind::kInvalidArgument, std::string(what) + " must be a positive integer");
  return static_cast<int64_t>(v);
}

Status Search(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  SAVOIR_ASSIGN_OR_RETURN(json body, ParseJsonObject(req.body));
  SAVOIR_ASSIGN_OR_RETURN(SearchParams p, ParseSearchParams(body, 10, ctx.limits));
  RequestContext rc = RequestContextFor(req);
  SAVOIR_ASSIGN_OR_RETURN(Retrieval r, Retrieve(*ctx.engine, p.query, rc.principal, p.filters, p.k));
  WriteJson(res, {{"results", ResultsJson(r)}, {"took_ms", std::round(r.took_ms * 100) / 100}});
  return Status::Ok();
}

Status Document(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  SAVOIR_ASSIGN_OR_RETURN(int64_t id, ParseId(req.matches[1], "the document id"));
  RequestContext rc = RequestContextFor(req);
  const Status absent(ErrorKind::kNotFound, "no document " + std::to_string(id));
  auto doc = ctx.engine->store().GetDocument(id);
  if (!doc.ok()) return doc.status().kind() == ErrorKind::kNotFound ? absent : doc.status();
  // A document the principal may not read is reported absent: a 403 would
  // confirm that it exists.
  if (!CanRead(rc.principal, doc->acl)) return absent;
  json passage = nullptr;
  std::string heading_path, language = doc->language;
  if (req.has_param("chunk")) {
    SAVOIR_ASSIGN_OR_RETURN(int64_t chunk_id, ParseId(req.get_param_value("chunk"), "chunk"));
    auto chunk = ctx.engine->store().GetChunk(chunk_id);
    if (!chunk.ok() || chunk->document_id != id)
      return Status(ErrorKind::kNotFound, "document " + std::to_string(id) + " has no chunk " +
                                              std::to_string(chunk_id));
    passage = {{"chunk_id", chunk->id}, {"start", chunk->begin}, {"end", chunk->end}};
    heading_path = chunk->heading_path;
    if (!chunk->language.empty()) language = chunk->language;
  }
  SAVOIR_ASSIGN_OR_RETURN(SourceRecord source, ctx.engine->store().GetSource(doc->source_id));
  WriteJson(res, {{"id", doc->id},
                  {"title", doc->title},
                  {"url", doc->url},
                  {"source", SourceJson(source)},
                  {"language", language},
                  {"updated_at", doc->updated_at > 0 ? json(IsoTime(doc->updated_at)) : json(nullptr)},
                  {"heading_path", heading_path},
                  {"text", doc->content},
                  {"passage", passage}});
  return Status::Ok();
}

json TimeOrNull(int64_t t) { return t > 0 ? json(IsoTime(t)) : json(nullptr); }

// A source as the admin page sees it: never its configuration (credentials).
Status Sources(ServerContext& ctx, httplib::Response& res) {
  Engine& e = *ctx.engine;
  SAVOIR_ASSIGN_OR_RETURN(auto sources, e.store().ListSources());
  json out = json::array();
  for (const auto& src : sources) {
    json j = SourceJson(src);
    j["documents"] = src.documents;
    const bool connector = IsConnectorKind(src.kind);
    j["connector"] = connector;
    j["interval_min"] = connector ? json(static_cast<double>(SyncIntervalSeconds(src, e.config())) / 60) : json(nullptr);
    j["syncing"] = connector && ctx.scheduler && ctx.scheduler->IsSyncing(src.id);
    j["queued"] = connector && ctx.scheduler && ctx.scheduler->IsQueued(src.id);
    auto st = e.store().GetSyncStatus(src.id);
    if (st.ok()) {
      j["status"] = {{"last_attempt", TimeOrNull(st->last_attempt)},
                     {"last_success", TimeOrNull(st->last_success)},
                     {"next_run", TimeOrNull(st->next_run)},
                     {"documents_seen", st->documents_seen},
                     {"errors", st->errors}};
    } else {
      j["status"] = nullptr;
    }
    out.push_back(std::move(j));
  }
  WriteJson(res, {{"sources", out}});
  return Status::Ok();
}

Status SyncNow(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  SAVOIR_ASSIGN_OR_RETURN(int64_t id, ParseId(req.matches[1], "the source id"));
  RequestContext rc = RequestContextFor(req);
  // Single-user mode: the local user administers the server.
  if (!rc.principal.all_access) return Status(ErrorKind::kPermissionDenied, "only an administrator may sync sources");
  if (!ctx.scheduler) return Status(ErrorKind::kUnavailable, "this server does not sync sources");
  Status st = ctx.scheduler->RequestSync(id);
  if (st.kind() == ErrorKind::kNotFound) return Status(ErrorKind::kNotFound, "no source " + std::to_string(id));
  SAVOIR_RETURN_IF_ERROR(st);
  WriteJson(res, {{"status", "queued"}, {"source_id", id}}, 202);
  return Status::Ok();
}

}  // namespace

void AddJsonApiRoutes(httplib::Server& server, ServerContext& ctx) {
  const ErrorStyle s = ErrorStyle::kSavoir;
  // Alive: the process answers. Ready: the store answers and the index is open.
  server.Get("/healthz", Guarded(s, [](const httplib::Request&, httplib::Response& res) {
               WriteJson(res, {{"status", "ok"}});
               return Status::Ok();
             }));
  server.Get("/readyz", Guarded(s, [&ctx](const httplib::Request&, httplib::Response& res) {
               if (!ctx.engine) return Status(ErrorKind::kUnavailable, "the index is not loaded");
               auto seq = ctx.engine->store().LastChangeSeq();
               if (!seq.ok()) return Status(ErrorKind::kUnavailable, "the store does not answer: " + seq.status().message());
               WriteJson(res, {{"status", "ready"}, {"indexed_seq", ctx.engine->index().applied_seq()}});
               return Status::Ok();
             }));
  // What the indexes hold: keyword chunks and the vector index (model,
  // vectors, changes not embedded yet, a model being built).
  server.Get("/api/status", Guarded(s, [&ctx](const httplib::Request&, httplib::Response& res) {
               if (!ctx.engine) return Status(ErrorKind::kUnavailable, "the index is not loaded");
               IndexStats st = ctx.engine->index().Stats();
               VectorStatus vs = ctx.engine->vector_status();
               nlohmann::json vectors = {{"enabled", vs.enabled},
                                         {"model", vs.model},
                                         {"vectors", vs.vectors},
                                         {"pending", vs.pending},
                                         {"building", vs.building},
                                         {"building_vectors", vs.building_vectors},
                                         {"building_pending", vs.building_pending},
                                         {"error", ctx.engine->vector_error()}};
               WriteJson(res, {{"indexed_seq", ctx.engine->index().applied_seq()},
                               {"chunks", st.live_chunks},
                               {"segments", st.segments},
                               {"retrieval", vs.vectors > 0 ? "hybrid" : "bm25"},
                               {"vectors", vectors}});
               return Status::Ok();
             }));
  server.Get("/api/me", Guarded(s, [](const httplib::Request& req, httplib::Response& res) {
               RequestContext rc = RequestContextFor(req);
               WriteJson(res, {{"user", rc.principal.user},
                               {"groups", rc.principal.groups},
                               {"mode", rc.mode},
                               {"all_access", rc.principal.all_access}});
               return Status::Ok();
             }));
  server.Get("/api/sources", Guarded(s, [&ctx](const httplib::Request&, httplib::Response& res) {
               return Sources(ctx, res);
             }));
  server.Post(R"(/api/sources/([^/]+)/sync)", Guarded(s, [&ctx](const httplib::Request& req, httplib::Response& res) {
                return SyncNow(ctx, req, res);
              }));
  server.Post("/api/search", Guarded(s, [&ctx](const httplib::Request& req, httplib::Response& res) {
                return Search(ctx, req, res);
              }));
  server.Get(R"(/api/documents/([^/]+))", Guarded(s, [&ctx](const httplib::Request& req, httplib::Response& res) {
               return Document(ctx, req, res);
             }));
}

}  // namespace savoir
