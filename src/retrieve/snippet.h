// Query-biased snippets: the window of a passage with the most distinct
// query terms, with matched words marked.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace savoir {

struct Snippet {
  std::string html;   // HTML-escaped, matches wrapped in <mark></mark>
  std::string text;   // plain text
  uint32_t begin = 0, end = 0;  // byte range of the window in the passage
};

// `terms` are analyzed query terms (Analyzer with `language`).
Snippet MakeSnippet(std::string_view passage, const std::unordered_set<std::string>& terms,
                    const std::string& language, size_t max_words = 40);

// The same window as MakeSnippet, as plain text in which the only markup is
// <mark></mark> around the matches: any "<mark>" or "</mark>" of the
// document itself is removed (a passage cannot fake a highlight), nothing is
// escaped (the web page inserts it as text, then restores the marks).
std::string MarkedSnippet(std::string_view passage, const std::unordered_set<std::string>& terms,
                          const std::string& language, size_t max_words = 40);

std::string HtmlEscape(std::string_view s);

// The query's terms as a passage in a given language matches them: the query
// analyzed in that language, falling back to `fallback` (the searcher's own
// analysis) when that yields nothing. Computed once per language.
class SnippetTerms {
 public:
  SnippetTerms(std::string query, std::unordered_set<std::string> fallback)
      : query_(std::move(query)), fallback_(std::move(fallback)) {}
  const std::unordered_set<std::string>& For(const std::string& language);

 private:
  std::string query_;
  std::unordered_set<std::string> fallback_;
  std::unordered_map<std::string, std::unordered_set<std::string>> by_language_;
};

}  // namespace savoir
