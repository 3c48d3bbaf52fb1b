#include "answer/sentences.h"

#include <unicode/uchar.h>

#include <algorithm>
#include <string>
#include <unordered_set>

#include "common/utf8.h"
#include "index/analyzer.h"

namespace savoir {
namespace {

// Decodes the code point at `i` without moving the caller's cursor.
char32_t PeekAt(std::string_view s, size_t i, size_t* next = nullptr) {
  size_t j = i;
  char32_t cp = DecodeUtf8(s, j);
  if (next) *next = j;
  return cp;
}

// ASCII whitespace plus the no-break spaces French typography puts before
// ? ! : ; and inside « ».
bool IsSpace(char32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' || cp == '\v' ||
         cp == 0x00A0 || cp == 0x202F || cp == 0x2009 || cp == 0x2007 || cp == 0x200B;
}

bool IsTerminator(char32_t cp) { return cp == '.' || cp == '!' || cp == '?' || cp == 0x2026; }

// A sentence may start with anything but a lower-case letter or a
// continuing punctuation mark: upper case, digits, opening quotes, bullets,
// and letters of caseless scripts.
bool IsSentenceStart(char32_t cp) {
  if (cp < 0x80) {
    if ((cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9')) return true;
    return cp == '"' || cp == '\'' || cp == '(' || cp == '[' || cp == '-' || cp == '*';
  }
  if (cp == 0x00AB || cp == 0x201C || cp == 0x2018 || cp == 0x2013 || cp == 0x2014 ||
      cp == 0x2022 || cp == 0x00BF || cp == 0x00A1)
    return true;
  UChar32 u = static_cast<UChar32>(cp);
  return u_isalnum(u) && !u_islower(u);
}

bool IsLower(char32_t cp) {
  if (cp < 0x80) return cp >= 'a' && cp <= 'z';
  return u_islower(static_cast<UChar32>(cp));
}

// Abbreviations that never end a sentence (folded, without the final dot).
const std::unordered_set<std::string_view>& AlwaysAbbreviations() {
  static const std::unordered_set<std::string_view> s = {
      "e.g", "i.e", "dr", "mr", "mrs", "ms", "mme", "mmes", "mlle", "mlles", "mgr", "pr", "prof",
      "etc", "cf", "vs", "viz", "al", "ex", "st", "ste", "jr", "sr", "inc", "ltd", "corp", "approx",
      "env", "resp", "ibid", "op", "cit", "av", "apr", "coll", "ed", "eds", "dept", "gen", "lt",
      "sgt", "capt", "col", "cie", "ets", "cpt", "bd"};
  return s;
}

// Abbreviations that are ordinary words too ("art", "no", "vol"): only
// abbreviations when a number follows ("art. 5", "no. 3").
const std::unordered_set<std::string_view>& NumberAbbreviations() {
  static const std::unordered_set<std::string_view> s = {
      "no", "n°", "nº", "nos", "art", "arts", "p", "pp", "fig", "figs", "vol", "vols", "chap", "ch",
      "sect", "ref", "tel", "num", "t", "al", "eq", "para", "ann", "tab"};
  return s;
}

// Case matters for these: "Me" (Maître) and "MM." (Messieurs), not "me".
bool IsCasedAbbreviation(std::string_view w) { return w == "Me" || w == "MM"; }

// Whether the dot at `dot` ends an abbreviation or an initial rather than a
// sentence. `line_start` bounds the backward scan for the word.
bool IsAbbreviation(std::string_view text, size_t line_start, size_t dot, char32_t next) {
  size_t b = dot;
  while (b > line_start) {
    unsigned char c = static_cast<unsigned char>(text[b - 1]);
    if (c == ' ' || c == '\t' || c == '\n' || c == '(' || c == '[' || c == '"' || c == '\'') break;
    if (c == 0xA0 && b >= 2 && static_cast<unsigned char>(text[b - 2]) == 0xC2) break;  // NBSP
    if (c == 0xAB && b >= 2 && static_cast<unsigned char>(text[b - 2]) == 0xC2) break;  // «
    if (dot - b > 24) return false;  // not a word an abbreviation could be
    --b;
  }
  std::string_view word = text.substr(b, dot - b);
  if (word.empty()) return false;
  // Initials and single-letter abbreviations: "J. K. Rowling", "M. Dupont", "p. 12".
  size_t i = 0, letters = 0;
  bool all_letters = true;
  while (i < word.size()) {
    char32_t cp = DecodeUtf8(word, i);
    ++letters;
    if (!u_isalpha(static_cast<UChar32>(cp))) all_letters = false;
  }
  if (all_letters && letters == 1) return true;
  if (IsCasedAbbreviation(word)) return true;
  std::string folded = Analyzer::Fold(word);
  if (AlwaysAbbreviations().count(folded)) return true;
  bool digit_next = next >= '0' && next <= '9';
  if (digit_next && NumberAbbreviations().count(folded)) return true;
  // Dotted abbreviations and acronyms: "e.g", "p.ex", "J.-C", "U.S".
  if (word.find('.') != std::string_view::npos) {
    bool short_parts = true;
    size_t start = 0;
    while (start <= word.size()) {
      size_t end = word.find('.', start);
      if (end == std::string_view::npos) end = word.size();
      std::string_view part = word.substr(start, end - start);
      size_t cps = 0;
      for (size_t k = 0; k < part.size();) {
        char32_t cp = DecodeUtf8(part, k);
        if (cp != '-') ++cps;
      }
      if (cps == 0 || cps > 2) short_parts = false;
      start = end + 1;
    }
    if (short_parts) return true;
  }
  return false;
}

class Splitter {
 public:
  Splitter(std::string_view text, size_t max_bytes, std::vector<SentenceSpan>* out)
      : text_(text), max_bytes_(max_bytes), out_(out) {}

  void Run() {
    const size_t n = text_.size();
    size_t start = 0, i = 0;
    while (i < n) {
      size_t at = i;
      char32_t cp = DecodeUtf8(text_, i);
      if (cp == '\n') {
        // Skip the whole whitespace run, counting line breaks.
        size_t j = i;
        int breaks = 1;
        while (j < n) {
          size_t k;
          char32_t c = PeekAt(text_, j, &k);
          if (!IsSpace(c)) break;
          if (c == '\n') ++breaks;
          j = k;
        }
        // A blank line separates blocks; a single break is a wrapped line
        // only when the next line continues in lower case.
        if (breaks >= 2 || j >= n || !IsLower(PeekAt(text_, j))) {
          Emit(start, at);
          start = j;
        }
        i = j;
        continue;
      }
      if (!IsTerminator(cp)) continue;
      bool single_dot = cp == '.';
      size_t end = i;
      while (end < n) {
        size_t k;
        char32_t c = PeekAt(text_, end, &k);
        if (!IsTerminator(c)) break;
        single_dot = false;
        end = k;
      }
      end = SkipClosers(end);
      i = end;
      if (end >= n) break;
      size_t j = end;
      while (j < n) {
        size_t k;
        char32_t c = PeekAt(text_, j, &k);
        if (!IsSpace(c)) break;
        j = k;
      }
      if (j == end || j >= n) continue;  // no space after: "3.5", "a.b@c.fr", "x.org/y"
      char32_t next = PeekAt(text_, j);
      if (!IsSentenceStart(next)) continue;
      if (single_dot && IsAbbreviation(text_, start, at, next)) continue;
      Emit(start, end);
      start = j;
      i = j;
    }
    Emit(start, n);
  }

 private:
  // Closing quotes and brackets after a terminator belong to the sentence;
  // a French closing guillemet may come after a (no-break) space.
  size_t SkipClosers(size_t end) const {
    const size_t n = text_.size();
    for (;;) {
      size_t j = end, k;
      if (j >= n) return end;
      char32_t c = PeekAt(text_, j, &k);
      if (c == '"' || c == '\'' || c == ')' || c == ']' || c == 0x201D || c == 0x2019 || c == 0x00BB) {
        end = k;
        continue;
      }
      while (j < n && (c == ' ' || c == 0x00A0 || c == 0x202F || c == 0x2009)) {
        j = k;
        if (j >= n) return end;
        c = PeekAt(text_, j, &k);
      }
      if (c != 0x00BB) return end;
      end = k;
    }
  }

  void Emit(size_t b, size_t e) {
    while (b < e) {
      size_t k;
      if (!IsSpace(PeekAt(text_, b, &k))) break;
      b = k;
    }
    while (e > b) {
      // Step back one code point (continuation bytes are 10xxxxxx).
      size_t p = e - 1;
      while (p > b && (static_cast<unsigned char>(text_[p]) & 0xC0) == 0x80 && e - p < 4) --p;
      if (!IsSpace(PeekAt(text_, p))) break;
      e = p;
    }
    if (b >= e) return;
    while (max_bytes_ > 0 && e - b > max_bytes_) {
      std::string_view piece = TruncateUtf8(text_.substr(b, max_bytes_), max_bytes_);
      size_t cut = piece.size();
      size_t space = piece.find_last_of(" \t\n");
      if (space != std::string_view::npos && space > max_bytes_ / 2) cut = space;
      if (cut == 0) cut = std::min<size_t>(e - b, 4);  // a lone broken sequence: move on
      Emit(b, b + cut);
      b += cut;
      size_t k;
      while (b < e && IsSpace(PeekAt(text_, b, &k))) b = k;
    }
    if (b < e) out_->push_back({static_cast<uint32_t>(b), static_cast<uint32_t>(e)});
  }

  std::string_view text_;
  size_t max_bytes_;
  std::vector<SentenceSpan>* out_;
};

}  // namespace

std::vector<SentenceSpan> SplitSentences(std::string_view text, size_t max_bytes) {
  std::vector<SentenceSpan> out;
  if (text.size() > UINT32_MAX) text = text.substr(0, UINT32_MAX);  // spans are 32-bit
  Splitter(text, max_bytes, &out).Run();
  return out;
}

}  // namespace savoir
