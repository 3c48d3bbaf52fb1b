// `savoir ask QUESTION`: retrieval as a user, then the answer streamed to
// stdout (the configured language model, or the extractive answer), the
// numbered sources, and the usage recorded like the server's.
// `savoir usage`: the recent rows of answer_usage.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "answer/answerer_factory.h"
#include "cli/commands.h"
#include "embed/factory.h"
#include "retrieve/engine.h"
#include "retrieve/llama_reranker.h"
#include "server/retrieval.h"

namespace savoir {
namespace {
using json = nlohmann::json;

json UsageObject(const AnswerUsage& u) {
  return {{"model", u.model}, {"prompt_tokens", u.prompt_tokens}, {"completion_tokens", u.completion_tokens},
          {"latency_ms", u.latency_ms}, {"first_token_ms", u.first_token_ms}, {"error", u.error}};
}

std::string Time(int64_t at) {
  time_t t = static_cast<time_t>(at);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

}  // namespace

int CmdAsk(const Config& config, const CommandArgs& args) {
  auto answerers = MakeAnswerers(config);
  if (!answerers.ok()) return Fail("cannot set up the language model: " + answerers.status().message());
  auto engine = Engine::Open(config);
  if (!engine.ok()) return Fail(engine.status().message());
  Engine& e = **engine;
  Principal principal;
  principal.user = args.user;
  principal.groups = args.groups;
  SearchFilters filters;
  filters.sources = args.sources;
  filters.languages = args.languages;
  auto retrieval = Retrieve(e, args.query, principal, filters, args.k);
  if (!retrieval.ok()) return Fail(retrieval.status().message());

  AnswerRequest req;
  req.question = args.query;
  req.passages = PassagesFor(*retrieval);
  req.language = retrieval->language;
  auto gen = answerers->Make();
  const bool stream = !args.json;
  auto answer = gen->Generate(req, [&](std::string_view d) {
    if (stream) {
      std::fwrite(d.data(), 1, d.size(), stdout);
      std::fflush(stdout);
    }
    return true;
  });
  AnswerUsageRecord rec;
  if (answer.ok()) {
    rec.model = answer->usage.model;
    rec.mode = answer->mode;
    rec.prompt_tokens = answer->usage.prompt_tokens;
    rec.completion_tokens = answer->usage.completion_tokens;
    rec.latency_ms = answer->usage.latency_ms;
    rec.first_token_ms = answer->usage.first_token_ms;
    rec.error = answer->usage.error;
  } else {
    rec.model = gen->name();
    rec.mode = "error";
    rec.error = answer.status().message();
  }
  if (Status st = e.store().RecordAnswerUsage(&rec); !st.ok()) std::fprintf(stderr, "savoir: %s\n", st.message().c_str());
  if (!answer.ok()) return Fail("answer: " + answer.status().message());

  const auto& hits = retrieval->hits;
  if (args.json) {
    json sources = json::array();
    for (size_t i = 0; i < hits.size(); ++i)
      sources.push_back({{"n", i + 1}, {"document_id", hits[i].doc.id}, {"title", hits[i].doc.title},
                         {"url", hits[i].doc.url}, {"external_id", hits[i].doc.external_id}});
    json citations = json::array();
    for (const auto& c : answer->citations) citations.push_back(CitationJson(c));
    json out = {{"answer", answer->text}, {"mode", answer->mode},
                {"model", answer->model.empty() ? json(nullptr) : json(answer->model)},
                {"notice", answer->notice.empty() ? json(nullptr) : json(answer->notice)},
                {"citations", citations}, {"sources", sources}, {"usage", UsageObject(answer->usage)}};
    std::printf("%s\n", out.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
    return 0;
  }
  std::printf("\n");
  if (!answer->notice.empty()) std::printf("\n(%s)\n", answer->notice.c_str());
  if (!hits.empty()) std::printf("\nSources:\n");
  for (size_t i = 0; i < hits.size(); ++i)
    std::printf("  [%zu] %s  %s\n", i + 1, hits[i].doc.title.c_str(),
                hits[i].doc.url.empty() ? hits[i].doc.external_id.c_str() : hits[i].doc.url.c_str());
  if (answer->mode == "model")
    std::printf("\n%s: %lld prompt + %lld completion tokens, first token %.0f ms, %.0f ms\n",
                answer->usage.model.c_str(), static_cast<long long>(answer->usage.prompt_tokens),
                static_cast<long long>(answer->usage.completion_tokens), answer->usage.first_token_ms,
                answer->usage.latency_ms);
  return 0;
}

int CmdUsage(const Config& config, const CommandArgs& args) {
  if (!std::filesystem::exists(config.store_path()))
    return Fail("no store at " + config.store_path() + " (wrong --data?)");
  auto store = OpenSqliteStore(config.store_path());
  if (!store.ok()) return Fail(store.status().message());
  auto rows = (*store)->ListAnswerUsage(args.k);
  if (!rows.ok()) return Fail(rows.status().message());
  if (args.json) {
    for (const auto& r : *rows) {
      json j = {{"id", r.id}, {"at", r.at}, {"model", r.model}, {"mode", r.mode},
                {"prompt_tokens", r.prompt_tokens}, {"completion_tokens", r.completion_tokens},
                {"latency_ms", r.latency_ms}, {"first_token_ms", r.first_token_ms}, {"error", r.error}};
      std::printf("%s\n", j.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
    }
    return 0;
  }
  std::printf("%-19s  %-10s  %-24s %8s %8s %9s %9s  %s\n", "time (UTC)", "mode", "model", "prompt", "complet.",
              "1st tok", "latency", "error");
  int64_t prompt = 0, completion = 0;
  for (const auto& r : *rows) {
    prompt += r.prompt_tokens;
    completion += r.completion_tokens;
    std::printf("%-19s  %-10s  %-24.24s %8lld %8lld %7.0fms %7.0fms  %.80s\n", Time(r.at).c_str(), r.mode.c_str(),
                r.model.empty() ? "-" : r.model.c_str(), static_cast<long long>(r.prompt_tokens),
                static_cast<long long>(r.completion_tokens), r.first_token_ms, r.latency_ms, r.error.c_str());
  }
  std::printf("%zu answer%s, %lld prompt + %lld completion tokens\n", rows->size(), rows->size() == 1 ? "" : "s",
              static_cast<long long>(prompt), static_cast<long long>(completion));
  return 0;
}

int CmdEmbed(const Config& config, const CommandArgs& args) {
  auto embedder = MakeEmbedder(config);
  if (!embedder.ok()) return Fail(embedder.status().message());
  if (!*embedder) return Fail("no embedding model is configured (see --embedder)");
  Embedder& e = **embedder;
  json vectors = json::array();
  for (size_t i = 0; i < args.paths.size(); i += e.max_batch()) {
    std::vector<std::string> batch(args.paths.begin() + i,
                                   args.paths.begin() + std::min(args.paths.size(), i + e.max_batch()));
    auto v = e.Embed(batch, args.embed_query ? EmbedKind::kQuery : EmbedKind::kPassage);
    if (!v.ok()) return Fail(v.status().message());
    for (auto& x : *v) vectors.push_back(std::move(x));
  }
  json out = {{"model_id", e.model_id()}, {"dimensions", e.dimensions()}, {"vectors", vectors}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

int CmdRerank(const Config& config, const CommandArgs& args) {
  auto reranker = MakeReranker(config);
  if (!reranker.ok()) return Fail(reranker.status().message());
  if (!*reranker) return Fail("no reranker is configured (see --reranker)");
  if (args.paths.size() < 2) return Fail("rerank needs a query and at least one document");
  std::vector<std::string> docs(args.paths.begin() + 1, args.paths.end());
  auto scores = (*reranker)->Score(args.paths[0], docs);
  if (!scores.ok()) return Fail(scores.status().message());
  json out = {{"reranker", (*reranker)->name()}, {"scores", *scores}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace savoir
