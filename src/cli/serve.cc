// `savoir serve`: opens the data folder once and serves it over HTTP.
#include <cstdio>

#include "answer/answerer_factory.h"
#include "cli/commands.h"
#include "retrieve/engine.h"
#include "server/scheduler.h"
#include "server/server.h"

namespace savoir {

int CmdServe(const Config& config) {
  // The model options are checked before anything opens, so a mistake in
  // them is the one line printed.
  auto answerers = MakeAnswerers(config);
  if (!answerers.ok()) return Fail("cannot set up the language model: " + answerers.status().message());
  auto engine = Engine::Open(config);
  if (!engine.ok()) return Fail(engine.status().message());
  ServerContext ctx;
  ctx.engine = engine->get();
  ctx.options = ServerOptions::FromConfig(config);
  auto shared = std::make_shared<Answerers>(std::move(*answerers));
  ctx.make_answerer = [shared] { return shared->Make(); };
  if (shared->model) {
    ctx.rewrite_query = [shared](const std::string& q, const std::vector<ChatTurn>& h, AnswerUsage* u) {
      return shared->Rewrite(q, h, u);
    };
    std::fprintf(stderr, "savoir: answers by the language model %s (--chat %s); extractive when it is down\n",
                 shared->model->name().c_str(), config.chat.c_str());
  }
  // Connector sources sync on their own intervals inside the server.
  SyncScheduler scheduler(**engine, config);
  ctx.scheduler = &scheduler;
  return RunServer(ctx);
}

}  // namespace savoir
