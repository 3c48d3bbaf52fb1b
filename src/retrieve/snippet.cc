#include "retrieve/snippet.h"

#include <algorithm>
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

const std::unordered_set<std::string>& SnippetTerms::For(const std::string& language) {
  auto it = by_language_.find(language);
  if (it == by_language_.end()) {
    std::unordered_set<std::string> terms;
    for (auto& w : Analyzer::Terms(query_, language)) terms.insert(std::move(w));
    it = by_language_.emplace(language, std::move(terms)).first;
  }
  return it->second.empty() ? fallback_ : it->second;
}

Snippet MakeSnippet(std::string_view passage, const std::unordered_set<std::string>& terms,
                    const std::string& language, size_t max_words) {
  // Word boundaries from the analyzer without stop-word removal would be
  // ideal; analyzed tokens are enough to place the window and the marks.
  std::vector<Token> toks;
  toks.reserve(passage.size() / 5 + 8);  // about one word in 5-6 bytes: no regrowth
  std::string first_bytes;
  for (const auto& t : terms)
    if (!t.empty() && first_bytes.find(t[0]) == std::string::npos) first_bytes.push_back(t[0]);
  Analyzer::AnalyzeForMatch(passage, language, first_bytes, &toks);
  // Slide a window of max_words tokens in one pass; score = distinct
  // matched terms * 4 + matches.
  std::vector<int> match(toks.size(), -1);
  std::vector<const std::string*> ids;
  for (size_t i = 0; i < toks.size(); ++i) {
    // An empty term (a word skipped by the first-byte test) matches nothing.
    if (toks[i].term.empty() || !terms.count(toks[i].term)) continue;
    auto it = std::find_if(ids.begin(), ids.end(), [&](const std::string* t) { return *t == toks[i].term; });
    if (it == ids.end()) it = ids.insert(ids.end(), &toks[i].term);
    match[i] = static_cast<int>(it - ids.begin());
  }
  std::vector<int> count(ids.size(), 0);
  size_t distinct = 0, matches = 0, best_start = 0, best_score = 0;
  const size_t w = std::min(max_words, toks.size());
  for (size_t i = 0; i < w; ++i)
    if (match[i] >= 0) distinct += count[match[i]]++ == 0, ++matches;
  best_score = distinct * 4 + matches;
  for (size_t s = 1; s + w <= toks.size(); ++s) {
    if (int m = match[s - 1]; m >= 0) distinct -= --count[m] == 0, --matches;
    if (int m = match[s + w - 1]; m >= 0) distinct += count[m]++ == 0, ++matches;
    if (distinct * 4 + matches > best_score) {
      best_score = distinct * 4 + matches;
      best_start = s;
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
    if (t.begin < begin || t.end > end || t.term.empty() || !terms.count(t.term)) continue;
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
