// `savoir serve`: opens the data folder once and serves it over HTTP.
#include "answer/extractive.h"
#include "cli/commands.h"
#include "retrieve/engine.h"
#include "server/scheduler.h"
#include "server/server.h"

namespace savoir {

int CmdServe(const Config& config) {
  auto engine = Engine::Open(config);
  if (!engine.ok()) return Fail(engine.status().message());
  ServerContext ctx;
  ctx.engine = engine->get();
  ctx.options = ServerOptions::FromConfig(config);
  // No language model is configured yet: the extractive answerer.
  ctx.make_answerer = [] { return MakeExtractiveAnswerer(); };
  // Connector sources sync on their own intervals inside the server.
  SyncScheduler scheduler(**engine, config);
  ctx.scheduler = &scheduler;
  return RunServer(ctx);
}

}  // namespace savoir
