// `savoir serve`: opens the data folder once and serves it over HTTP.
#include <cstdio>

#include "cli/commands.h"
#include "retrieve/engine.h"
#include "server/server.h"

#if __has_include("answer/extractive.h")
#include "answer/extractive.h"
#define SAVOIR_HAVE_EXTRACTIVE 1
#else
#include "server/interim_answerer.h"  // TEMPORARY until answer/extractive.h is merged
#endif

namespace savoir {

int CmdServe(const Config& config) {
  auto engine = Engine::Open(config);
  if (!engine.ok()) return Fail(engine.status().message());
  ServerContext ctx;
  ctx.engine = engine->get();
  ctx.options = ServerOptions::FromConfig(config);
#ifdef SAVOIR_HAVE_EXTRACTIVE
  ctx.make_answerer = [] { return MakeExtractiveAnswerer(); };
#else
  ctx.make_answerer = [] { return MakeInterimAnswerer(); };
#endif
  return RunServer(ctx);
}

}  // namespace savoir
