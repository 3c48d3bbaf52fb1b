#include "server/answering.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <thread>

namespace savoir {

double MillisecondsSince(std::chrono::steady_clock::time_point t0) {
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return std::round(ms * 10) / 10;
}

namespace {
double Round1(double v) { return std::round(v * 10) / 10; }
}  // namespace

void RecordUsage(ServerContext& ctx, const AnswerUsage& usage, const std::string& mode) {
  if (!ctx.engine) return;
  AnswerUsageRecord r;
  r.model = usage.model;
  r.mode = mode;
  r.prompt_tokens = usage.prompt_tokens;
  r.completion_tokens = usage.completion_tokens;
  r.latency_ms = Round1(usage.latency_ms);
  r.first_token_ms = Round1(usage.first_token_ms);
  r.error = usage.error;
  if (Status st = ctx.engine->store().RecordAnswerUsage(&r); !st.ok())
    std::fprintf(stderr, "savoir: %s\n", st.ToString().c_str());
  if (!usage.error.empty())
    std::fprintf(stderr, "savoir: language model %s failed (%s): %s\n", usage.model.c_str(), mode.c_str(),
                 usage.error.c_str());
}

nlohmann::json UsageJson(const AnswerUsage& u) {
  return {{"model", u.model.empty() ? nlohmann::json(nullptr) : nlohmann::json(u.model)},
          {"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens},
          {"latency_ms", Round1(u.latency_ms)},
          {"first_token_ms", Round1(u.first_token_ms)}};
}

std::string RetrievalQuery(ServerContext& ctx, const std::string& question, const std::vector<ChatTurn>& history) {
  if (!ctx.rewrite_query || history.empty()) return StandaloneQuery(question, history);
  AnswerUsage usage;
  auto q = ctx.rewrite_query(question, history, &usage);
  if (!usage.model.empty()) RecordUsage(ctx, usage, "rewrite");
  if (!q.ok() || q->empty()) return StandaloneQuery(question, history);
  return *q;
}

Result<Answer> GenerateAnswer(ServerContext& ctx, const std::string& question,
                              const std::vector<ChatTurn>& history, const Retrieval& retrieval,
                              const DeltaSink& sink) {
  std::unique_ptr<AnswerGenerator> gen = ctx.make_answerer ? ctx.make_answerer() : nullptr;
  if (!gen) return Status(ErrorKind::kUnavailable, "no answer generator is configured");
  AnswerRequest req;
  req.question = question;
  req.history = history;
  req.passages = PassagesFor(retrieval);
  req.language = retrieval.language;
  const int pace = ctx.options.answer_pace_ms;
  auto answer = gen->Generate(req, [&](std::string_view delta) {
    if (pace > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pace));
    return sink(delta);
  });
  if (answer.ok()) {
    RecordUsage(ctx, answer->usage, answer->mode);
  } else {
    AnswerUsage failed;
    failed.model = gen->name();
    failed.error = answer.status().message();
    RecordUsage(ctx, failed, "error");
  }
  return answer;
}

}  // namespace savoir
