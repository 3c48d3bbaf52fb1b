// TEMPORARY — delete when answer/extractive.h is merged (src/cli/serve.cc
// already prefers MakeExtractiveAnswerer() when that header exists).
// A minimal extractive answerer so that `savoir serve` and its end-to-end
// tests work before the real one lands: the best-matching sentence of each
// of the first passages, cited as [n].
#pragma once

#include <memory>

#include "answer/answer.h"

namespace savoir {

std::unique_ptr<AnswerGenerator> MakeInterimAnswerer();

}  // namespace savoir
