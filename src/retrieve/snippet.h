// Query-biased snippets: the window of a passage with the most distinct
// query terms, with matched words marked.
#pragma once

#include <string>
#include <string_view>
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

std::string HtmlEscape(std::string_view s);

}  // namespace savoir
