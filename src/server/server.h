// `savoir serve`: the HTTP server over one open Engine. The routes live in
// one file per area (json_api, chat_api, openai_api, static_files); this file
// holds what they share and the server's life cycle.
#pragma once

#include <httplib.h>

#include <functional>
#include <memory>
#include <string>

#include "answer/answer.h"
#include "common/config.h"
#include "retrieve/engine.h"
#include "server/request_parsing.h"
#include "server/work_gate.h"

namespace savoir {

// One answerer per chat request: generators may keep per-answer state.
using AnswererFactory = std::function<std::unique_ptr<AnswerGenerator>()>;
// Makes a follow-up question stand-alone before retrieval (a language model
// call); `usage` receives its cost. Errors fall back to StandaloneQuery.
using QueryRewriter = std::function<Result<std::string>(const std::string& question,
                                                        const std::vector<ChatTurn>& history, AnswerUsage* usage)>;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                    // 0: any free port
  int threads = 8;
  int compute_slots = 0;              // requests computing at once (WorkGate); 0: one per core
  std::string web_dir;
  size_t max_body_bytes = 1 << 20;
  int read_timeout_s = 10, write_timeout_s = 10, keep_alive_s = 2;
  int answer_pace_ms = 0;
  int refresh_s = 2;  // catch up with the store (other processes' writes) this often

  static ServerOptions FromConfig(const Config& config);
};

// What the routes share; outlives the httplib::Server it is registered on.
class SyncScheduler;

struct ServerContext {
  Engine* engine = nullptr;
  SyncScheduler* scheduler = nullptr;  // null: no connector syncs (POST .../sync answers 503)
  AnswererFactory make_answerer;
  QueryRewriter rewrite_query;  // null: StandaloneQuery (no model configured)
  ServerOptions options;
  RequestLimits limits;
  // Searches and document reads queue here (first come, first served);
  // ConfigureServer makes it from options.compute_slots when null.
  std::shared_ptr<WorkGate> gate;
};

void AddJsonApiRoutes(httplib::Server& server, ServerContext& ctx);
void AddChatRoutes(httplib::Server& server, ServerContext& ctx);
void AddOpenAiRoutes(httplib::Server& server, ServerContext& ctx);
// Registered last: it answers every GET no other route took.
void AddStaticRoutes(httplib::Server& server, ServerContext& ctx);

// Limits, timeouts, thread pool, error handler and every route; no socket.
void ConfigureServer(httplib::Server& server, ServerContext& ctx);

// Binds, prints "savoir: listening on http://HOST:PORT" on stdout, serves
// until SIGTERM or SIGINT, lets in-flight requests finish and returns the
// process exit code (0 after a signal).
int RunServer(ServerContext& ctx);

}  // namespace savoir
