#include "server/answering.h"

#include <chrono>
#include <cmath>
#include <thread>

namespace savoir {

double MillisecondsSince(std::chrono::steady_clock::time_point t0) {
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return std::round(ms * 10) / 10;
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
  return gen->Generate(req, [&](std::string_view delta) {
    if (pace > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pace));
    return sink(delta);
  });
}

}  // namespace savoir
