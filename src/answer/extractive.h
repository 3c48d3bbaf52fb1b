// The extractive answerer: answers with the passages' own sentences that
// best match the question, each followed by its citation [n]. It needs no
// language model, so it is the default and the fallback when a model is
// down; it cannot rephrase, combine facts or say "no" to a false premise.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "answer/answer.h"

namespace savoir {

struct ExtractiveOptions {
  size_t max_sentences = 3;
  size_t max_words = 80;           // a further sentence is added only while the answer fits
  size_t max_passages = 8;         // only the best passages are read
  size_t max_passage_bytes = 64 << 10;  // longer passages are read up to here
  size_t max_sentence_bytes = 600;      // run-on "sentences" (tables, lists) are cut
  // Score of a sentence = coverage of the query terms (idf-weighted, idf
  // over the sentences of the given passages)
  //   * (1 + proximity_weight * proximity) * (1 + answer_type_weight if it
  //   holds the kind of thing asked for) / rank factor / position factor.
  // Defaults tuned on PIAF (`savoir eval --beir piaf-fr --answers`): passage
  // rank matters most (retrieval is good), the previous sentence's terms help
  // (pronouns), length normalization hurts.
  double proximity_weight = 0.3;
  double rank_decay = 1.0;         // passage i (0-based) weighs 1 / (1 + rank_decay * i)
  double position_decay = 0.01;    // sentence j of a passage weighs 1 / (1 + position_decay * j)
  double heading_weight = 0.5;     // a heading-like line lends its matches to the next sentence
  double context_weight = 0.5;     // so does the previous sentence ("Il est né en 1920.")
  double length_norm = 0;          // score / (1 + length_norm * (words / 25 - 1)); off
  double answer_type_weight = 0.5;  // a number for "combien", a year for "quand", a name for "qui"
  double min_relative_score = 0.35;  // further sentences must score this share of the best
  double max_duplicate_overlap = 0.7;  // Jaccard of terms above which a sentence is a repeat
};

std::unique_ptr<AnswerGenerator> MakeExtractiveAnswerer(ExtractiveOptions options = {});

// The answer given when no passage matches the question, in `language`
// ("fr" gives French, anything else English).
std::string NoAnswerText(std::string_view language);

}  // namespace savoir
