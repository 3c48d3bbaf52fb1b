// Sentence splitting of French and English UTF-8 text, with byte offsets so
// that an answer can cite (and the UI highlight) the exact sentence.
//
// Rule-based on purpose: it runs on every answered question over a few
// passages, must take microseconds, and must never fail on odd input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace savoir {

// [begin, end) byte range of one sentence in the split text, without the
// surrounding whitespace.
struct SentenceSpan {
  uint32_t begin = 0, end = 0;
};

// Splits after . ! ? … (and runs of them, plus closing quotes/brackets) when
// whitespace and a sentence start (not a lower-case letter) follow; at blank
// lines; and at single line breaks unless the next line starts in lower case
// (a wrapped line). Does not split after common French/English
// abbreviations (e.g., Dr., M., Mme., p. ex., etc., art. 5, cf., vs.),
// initials (J. K.), inside numbers (3.5, 3,5), URLs or e-mail addresses.
// French spacing ("Quoi ?", « ... ») stays inside the sentence.
// When max_bytes > 0, longer sentences are cut at a space (or a code point
// boundary) so that no span exceeds it. Invalid UTF-8 is tolerated.
std::vector<SentenceSpan> SplitSentences(std::string_view text, size_t max_bytes = 0);

}  // namespace savoir
