#include "retrieve/snippet.h"

#include <algorithm>
#include <cctype>
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

namespace {

// The passage's tokens, which of them match a query term (-1: none, else
// the index of the distinct term) and the byte range of the best window.
struct Window {
  std::vector<Token> toks;
  std::vector<int> match;
  uint32_t begin = 0, end = 0;
};

Window FindWindow(std::string_view passage, const std::unordered_set<std::string>& terms,
                  const std::string& language, size_t max_words) {
  // Word boundaries from the analyzer without stop-word removal would be
  // ideal; analyzed tokens are enough to place the window and the marks.
  Window win;
  std::vector<Token>& toks = win.toks;
  toks.reserve(passage.size() / 5 + 8);  // about one word in 5-6 bytes: no regrowth
  std::string first_bytes;
  for (const auto& t : terms)
    if (!t.empty() && first_bytes.find(t[0]) == std::string::npos) first_bytes.push_back(t[0]);
  Analyzer::AnalyzeForMatch(passage, language, first_bytes, &toks);
  // Slide a window of max_words tokens in one pass; score = distinct
  // matched terms * 4 + matches.
  std::vector<int>& match = win.match;
  match.assign(toks.size(), -1);
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
  win.begin = begin;
  win.end = end;
  return win;
}

// Calls piece(text) for the window's text between marks and mark(word) for
// each matched word inside the window, in order.
template <typename Piece, typename Mark>
void WalkWindow(std::string_view passage, const Window& win, Piece&& piece, Mark&& mark) {
  uint32_t pos = win.begin;
  for (size_t i = 0; i < win.toks.size(); ++i) {
    const Token& t = win.toks[i];
    if (win.match[i] < 0 || t.begin < win.begin || t.end > win.end) continue;
    piece(passage.substr(pos, t.begin - pos));
    mark(passage.substr(t.begin, t.end - t.begin));
    pos = t.end;
  }
  piece(passage.substr(pos, win.end - pos));
}

void SpacesForControls(std::string* s) {
  for (char& c : *s)
    if (c == '\n' || c == '\t' || c == '\r') c = ' ';
}

// Removes "<mark>" and "</mark>" in any letter case, repeatedly, because a
// removal can join "<ma" and "rk>" into a new tag.
void StripMarkTags(std::string* s) {
  auto find_tag = [](const std::string& text, size_t* len) -> size_t {
    for (size_t i = text.find('<'); i != std::string::npos; i = text.find('<', i + 1)) {
      for (std::string_view tag : {std::string_view("<mark>"), std::string_view("</mark>")}) {
        if (text.size() - i < tag.size()) continue;
        bool same = true;
        for (size_t j = 1; j < tag.size() && same; ++j)
          same = std::tolower(static_cast<unsigned char>(text[i + j])) == tag[j];
        if (same) {
          *len = tag.size();
          return i;
        }
      }
    }
    return std::string::npos;
  };
  size_t len = 0;
  for (size_t at = find_tag(*s, &len); at != std::string::npos; at = find_tag(*s, &len)) s->erase(at, len);
}

}  // namespace

Snippet MakeSnippet(std::string_view passage, const std::unordered_set<std::string>& terms,
                    const std::string& language, size_t max_words) {
  const Window win = FindWindow(passage, terms, language, max_words);
  Snippet sn;
  sn.begin = win.begin;
  sn.end = win.end;
  std::string prefix = win.begin > 0 ? "… " : "", suffix = win.end < passage.size() ? " …" : "";
  sn.html = prefix;
  sn.text = prefix;
  WalkWindow(
      passage, win, [&](std::string_view text) { sn.html += HtmlEscape(text); },
      [&](std::string_view word) { sn.html += "<mark>" + HtmlEscape(word) + "</mark>"; });
  sn.html += suffix;
  sn.text += std::string(passage.substr(win.begin, win.end - win.begin)) + suffix;
  SpacesForControls(&sn.html);
  SpacesForControls(&sn.text);
  return sn;
}

std::string MarkedSnippet(std::string_view passage, const std::unordered_set<std::string>& terms,
                          const std::string& language, size_t max_words) {
  const Window win = FindWindow(passage, terms, language, max_words);
  std::string out = win.begin > 0 ? "… " : "";
  std::string piece;
  // The text between marks loses any mark tag of its own (with the prefix:
  // "… " cannot form one); a matched word is letters and digits only.
  auto text = [&](std::string_view t) {
    if (t.find('<') == std::string_view::npos) {
      out += t;
      return;
    }
    piece.assign(t);
    SpacesForControls(&piece);  // as the HTML form does before its tags are read
    StripMarkTags(&piece);
    out += piece;
  };
  WalkWindow(
      passage, win, text,
      [&](std::string_view word) {
        out += "<mark>";
        out += word;
        out += "</mark>";
      });
  if (win.end < passage.size()) out += " …";
  SpacesForControls(&out);
  return out;
}

}  // namespace savoir
