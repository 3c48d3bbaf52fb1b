// Running the answer generator over a retrieval, shared by /api/chat and the
// OpenAI-compatible API: the query retrieval runs with (a follow-up made
// stand-alone), the answer itself, and its usage recorded in the store.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "answer/answer.h"
#include "server/retrieval.h"
#include "server/server.h"

namespace savoir {

// The query to retrieve with. With a language model and a history: the
// model's stand-alone rewrite (its cost recorded as mode "rewrite"); when
// that fails or there is no model: StandaloneQuery.
std::string RetrievalQuery(ServerContext& ctx, const std::string& question, const std::vector<ChatTurn>& history);

// Streams the answer through `sink`, pausing options.answer_pace_ms before
// each piece. A sink returning false (client gone) stops the generator.
// The answer's usage (or the failure) is recorded in the store.
Result<Answer> GenerateAnswer(ServerContext& ctx, const std::string& question,
                              const std::vector<ChatTurn>& history, const Retrieval& retrieval,
                              const DeltaSink& sink);

// {model, prompt_tokens, completion_tokens, total_tokens, latency_ms,
// first_token_ms} as /api/chat's `done` event carries it.
nlohmann::json UsageJson(const AnswerUsage& usage);

// Appends one row to answer_usage; a failure is logged, never fatal.
void RecordUsage(ServerContext& ctx, const AnswerUsage& usage, const std::string& mode);

double MillisecondsSince(std::chrono::steady_clock::time_point t0);

}  // namespace savoir
