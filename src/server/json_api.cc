// The JSON API the web UI speaks (tests/js/mock-server.mjs is its executable
// contract): health, who am I, sources, search and documents.
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "server/http_errors.h"
#include "server/request_context.h"
#include "server/request_parsing.h"
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
  WorkGate::Pass pass(ctx.gate.get());  // computing requests take turns (server/work_gate.h)
  SAVOIR_ASSIGN_OR_RETURN(Retrieval r, Retrieve(*ctx.engine, p.query, rc.principal, p.filters, p.k));
  WriteJsonText(res, SearchResponseJson(r, std::round(r.took_ms * 100) / 100));
  return Status::Ok();
}

Status Document(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  SAVOIR_ASSIGN_OR_RETURN(int64_t id, ParseId(req.matches[1], "the document id"));
  RequestContext rc = RequestContextFor(req);
  WorkGate::Pass pass(ctx.gate.get());
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

// A source as the admin page sees it.
json AdminSourceJson(ServerContext& ctx, const SourceRecord& src, bool admin = true) {
  Engine& e = *ctx.engine;
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
  // Never the configuration (it holds the sealed token, paths, URLs):
  // whether a credential is set, and whether the interval is the source's own.
  if (connector && admin) {
    j["credential_set"] = SourceHasCredential(src);
    json cfg = json::parse(src.config_json, nullptr, false);
    j["own_interval"] = cfg.is_object() && cfg.contains("interval_min");
  }
  return j;
}

// Everyone may list sources (the search filters need them); only an admin
// sees whether a credential is set.
Status Sources(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const bool admin = RequireAdmin(RequestContextFor(req), "").ok();
  SAVOIR_ASSIGN_OR_RETURN(auto sources, ctx.engine->store().ListSources());
  json out = json::array();
  for (const auto& src : sources) out.push_back(AdminSourceJson(ctx, src, admin));
  WriteJson(res, {{"sources", out}});
  return Status::Ok();
}

// POST /api/sources {"kind", "name", "config", "credential", "interval_min"}:
// validated in full (connectors/sources.h, the CLI's code) before anything is
// stored; the credential is sealed and never sent back.
Status AddSourceRoute(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  SAVOIR_RETURN_IF_ERROR(RequireAdmin(RequestContextFor(req), "add sources"));
  SAVOIR_ASSIGN_OR_RETURN(json body, ParseJsonObject(req.body));
  SAVOIR_ASSIGN_OR_RETURN(NewSource s, NewSourceFromJson(body));
  SAVOIR_ASSIGN_OR_RETURN(int64_t id, AddSource(ctx.engine->store(), ctx.engine->config(), s));
  SAVOIR_ASSIGN_OR_RETURN(SourceRecord src, ctx.engine->store().GetSource(id));
  WriteJson(res, AdminSourceJson(ctx, src), 201);
  return Status::Ok();
}

Status UpdateSourceRoute(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  SAVOIR_ASSIGN_OR_RETURN(int64_t id, ParseId(req.matches[1], "the source id"));
  SAVOIR_RETURN_IF_ERROR(RequireAdmin(RequestContextFor(req), "configure sources"));
  SAVOIR_ASSIGN_OR_RETURN(json body, ParseJsonObject(req.body));
  Status st = UpdateSource(ctx.engine->store(), ctx.engine->config(), id, body);
  if (st.kind() == ErrorKind::kNotFound && !ctx.engine->store().GetSource(id).ok())
    return Status(ErrorKind::kNotFound, "no source " + std::to_string(id));
  SAVOIR_RETURN_IF_ERROR(st);
  SAVOIR_ASSIGN_OR_RETURN(SourceRecord src, ctx.engine->store().GetSource(id));
  WriteJson(res, AdminSourceJson(ctx, src));
  return Status::Ok();
}

// DELETE /api/sources/{id}: the source, its documents (gone from the index
// at once), its checkpoint and sync status. A sync in progress is stopped
// first.
Status RemoveSourceRoute(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  SAVOIR_ASSIGN_OR_RETURN(int64_t id, ParseId(req.matches[1], "the source id"));
  SAVOIR_RETURN_IF_ERROR(RequireAdmin(RequestContextFor(req), "remove sources"));
  Store& store = ctx.engine->store();
  auto src = store.GetSource(id);
  if (!src.ok())
    return src.status().kind() == ErrorKind::kNotFound ? Status(ErrorKind::kNotFound, "no source " + std::to_string(id))
                                                       : src.status();
  size_t documents = 0;
  if (auto docs = store.ListDocuments(id); docs.ok()) documents = docs->size();
  auto remove = [&] { return store.DeleteSource(id); };
  SAVOIR_RETURN_IF_ERROR(ctx.scheduler ? ctx.scheduler->RemoveSource(id, remove) : remove());
  SAVOIR_RETURN_IF_ERROR(ctx.engine->CatchUp());
  WriteJson(res, {{"removed", id}, {"name", src->name}, {"documents", documents}});
  return Status::Ok();
}

Status SyncNow(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  SAVOIR_ASSIGN_OR_RETURN(int64_t id, ParseId(req.matches[1], "the source id"));
  SAVOIR_RETURN_IF_ERROR(RequireAdmin(RequestContextFor(req), "sync sources"));
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
                               {"admin", rc.admin},
                               {"all_access", rc.principal.all_access}});
               return Status::Ok();
             }));
  server.Get("/api/sources", Guarded(s, [&ctx](const httplib::Request& req, httplib::Response& res) {
               return Sources(ctx, req, res);
             }));
  server.Post("/api/sources", Guarded(s, [&ctx](const httplib::Request& req, httplib::Response& res) {
                return AddSourceRoute(ctx, req, res);
              }));
  server.Patch(R"(/api/sources/([^/]+))", Guarded(s, [&ctx](const httplib::Request& req, httplib::Response& res) {
                 return UpdateSourceRoute(ctx, req, res);
               }));
  server.Delete(R"(/api/sources/([^/]+))", Guarded(s, [&ctx](const httplib::Request& req, httplib::Response& res) {
                  return RemoveSourceRoute(ctx, req, res);
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
