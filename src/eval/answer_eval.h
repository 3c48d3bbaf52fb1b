// `savoir eval --beir DIR --answers`: how often the extractive answer
// contains a gold answer string (PIAF's metadata.answers), against the
// ceiling of the top-1 passage containing it. A containment check, not a
// judgement of fluency: it says whether the right sentence was picked.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "answer/answer.h"
#include "common/status.h"
#include "eval/beir.h"
#include "index/keyword_index.h"
#include "retrieve/searcher.h"
#include "store/store.h"

namespace savoir {

// Lower case, accents folded (as Analyzer::Fold), typographic apostrophes
// made straight, whitespace (no-break spaces too) collapsed to one space.
std::string NormalizeForMatch(std::string_view text);

// Whether `normalized` (from NormalizeForMatch) contains any of `answers`.
bool ContainsAnswer(const std::string& normalized, const std::vector<std::string>& answers);

// The passages an answer is built from: the best chunk of each of the top
// `k` documents, numbered 1..k, read from the store.
Result<std::vector<Passage>> RetrievePassages(const std::string& question, const Searcher& searcher,
                                              Store& store, size_t k);

// Runs `generator` on every query with gold answers.
Result<AnswerEvalFigures> RunAnswerEval(const std::vector<BeirQuery>& queries, const Searcher& searcher,
                                        Store& store, AnswerGenerator& generator, size_t k = 5);

}  // namespace savoir
