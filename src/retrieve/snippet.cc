#include "retrieve/snippet.h"

#include <vector>

#include "common/utf8.h"
#include "index/analyzer.h"

namespace savoir {

std::string HtmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

Snippet MakeSnippet(std::string_view passage, const std::unordered_set<std::string>& terms,
                    const std::string& language, size_t max_words) {
  // Word boundaries from the analyzer without stop-word removal would be
  // ideal; analyzed tokens are enough to place the window and the marks.
  std::vector<Token> toks;
  Analyzer::Analyze(passage, language, &toks);
  size_t best_start = 0, best_score = 0;
  if (!toks.empty()) {
    // Slide a window of max_words tokens; score = distinct matched terms * 4 + matches.
    for (size_t s = 0; s < toks.size(); ++s) {
      std::unordered_set<std::string_view> distinct;
      size_t matches = 0;
      for (size_t i = s; i < toks.size() && i < s + max_words; ++i) {
        if (terms.count(toks[i].term)) {
          distinct.insert(toks[i].term);
          ++matches;
        }
      }
      size_t score = distinct.size() * 4 + matches;
      if (score > best_score) {
        best_score = score;
        best_start = s;
      }
      if (s + max_words >= toks.size()) break;
    }
  }
  Snippet sn;
  uint32_t begin = 0, end = static_cast<uint32_t>(passage.size());
  if (!toks.empty()) {
    // Start a little before the first token of the window, at a word start.
    size_t first = best_start > 2 ? best_start - 2 : 0;
    begin = first == 0 ? 0 : toks[first].begin;
    size_t last = std::min(toks.size() - 1, first + max_words - 1);
    end = last + 1 >= toks.size() ? static_cast<uint32_t>(passage.size()) : toks[last + 1].begin;
  }
  // Trim to a readable size even when stop words inflate the window.
  if (end - begin > max_words * 12) end = begin + static_cast<uint32_t>(TruncateUtf8(passage.substr(begin), max_words * 12).size());
  sn.begin = begin;
  sn.end = end;
  std::string prefix = begin > 0 ? "… " : "", suffix = end < passage.size() ? " …" : "";
  sn.html = prefix;
  sn.text = prefix;
  uint32_t pos = begin;
  for (const auto& t : toks) {
    if (t.begin < begin || t.end > end || !terms.count(t.term)) continue;
    sn.html += HtmlEscape(passage.substr(pos, t.begin - pos));
    sn.html += "<mark>" + HtmlEscape(passage.substr(t.begin, t.end - t.begin)) + "</mark>";
    pos = t.end;
  }
  sn.html += HtmlEscape(passage.substr(pos, end - pos)) + suffix;
  sn.text += std::string(passage.substr(begin, end - begin)) + suffix;
  for (auto* s : {&sn.html, &sn.text})
    for (char& c : *s)
      if (c == '\n' || c == '\t' || c == '\r') c = ' ';
  return sn;
}

}  // namespace savoir
