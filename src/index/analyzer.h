// Text analysis shared by indexing, querying and highlighting:
// Unicode word split -> lower case -> French elision/stop words -> Snowball
// stem (per language) -> accent folding. Stemming runs before folding because
// the Snowball French stemmer relies on accents ("é" vs "e").
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace savoir {

struct Token {
  std::string term;  // the normalized term as stored in the index
  uint32_t begin;    // byte offsets of the surface word in the input
  uint32_t end;
};

class Analyzer {
 public:
  // `language` is an ISO 639-1 code; languages without a Snowball stemmer
  // are lower-cased and folded only. Thread-safe (stemmers are per thread).
  // `variants`, when given, receives extra index terms: the stems of
  // accented words as if typed without accents, when they differ.
  static void Analyze(std::string_view text, std::string_view language, std::vector<Token>* out,
                      std::vector<std::string>* variants = nullptr);
  static std::vector<std::string> Terms(std::string_view text, std::string_view language);
  // For highlighting: the same tokens as Analyze, but a word is stemmed only
  // when its first letter (lower case, accent folded) is the first byte of
  // one of `first_bytes` (Snowball stems keep a word's first letter); other
  // words get an empty term, which matches nothing. Much cheaper on long
  // passages against a short query.
  static void AnalyzeForMatch(std::string_view text, std::string_view language, std::string_view first_bytes,
                              std::vector<Token>* out);

  // Lower case + accent folding of one word, no stemming (for display/matching).
  static std::string Fold(std::string_view word);

  static bool HasStemmer(std::string_view language);

  // The two steps of Analyze, for callers that remember what each word
  // gives (index builds, which see the same words again and again):
  // ForEachWord splits `text` into lower-cased words (before stop words and
  // stemming; words too long to index are skipped) with their byte
  // offsets; NormalizeWord gives what one such word indexes as in
  // `language`: false for a stop word, else its term (empty: nothing) and
  // its accent-less variant (empty when none). Analyze(text) is
  // ForEachWord + NormalizeWord per word.
  static void ForEachWord(std::string_view text,
                          const std::function<void(std::string_view word, uint32_t begin, uint32_t end)>& fn);
  static bool NormalizeWord(std::string_view word, std::string_view language, std::string* term,
                            std::string* variant);

};

// The index term for two adjacent analyzed words.
inline std::string BigramTerm(const std::string& a, const std::string& b) { return a + " " + b; }

// Detects the language of `text` (ISO 639-1, e.g. "fr"), or "" when unknown
// or not reliable. Uses CLD2.
std::string DetectLanguage(std::string_view text, bool* reliable = nullptr);
// The same, restricted to `allowed` languages (the corpus languages): the
// best-scoring allowed language among CLD2's top three, or "".
std::string DetectLanguageAmong(std::string_view text, const std::vector<std::string>& allowed,
                                bool* reliable = nullptr);

}  // namespace savoir
