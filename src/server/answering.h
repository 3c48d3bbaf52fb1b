// Running the answer generator over a retrieval, shared by /api/chat and the
// OpenAI-compatible API.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "answer/answer.h"
#include "server/retrieval.h"
#include "server/server.h"

namespace savoir {

// Streams the answer through `sink`, pausing options.answer_pace_ms before
// each piece. A sink returning false (client gone) stops the generator.
Result<Answer> GenerateAnswer(ServerContext& ctx, const std::string& question,
                              const std::vector<ChatTurn>& history, const Retrieval& retrieval,
                              const DeltaSink& sink);

double MillisecondsSince(std::chrono::steady_clock::time_point t0);

}  // namespace savoir
