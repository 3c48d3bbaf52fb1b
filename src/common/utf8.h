// Minimal UTF-8 helpers used on hot paths (analysis, snippets).
#pragma once

#include <string>
#include <string_view>

namespace savoir {

// Decodes the code point at s[i] and advances i; an invalid or truncated
// sequence decodes as U+FFFD and advances by one byte.
inline char32_t DecodeUtf8(std::string_view s, size_t& i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) { ++i; return c; }
  int n = c >= 0xF8 ? -1 : c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : -1;
  if (n < 0 || i + n >= s.size()) { ++i; return 0xFFFD; }
  char32_t cp = c & (0x3F >> n);
  for (int k = 1; k <= n; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) { ++i; return 0xFFFD; }
    cp = (cp << 6) | (cc & 0x3F);
  }
  i += n + 1;
  return cp;
}

void AppendUtf8(char32_t cp, std::string* out);

// Cuts `s` to at most `max_bytes` without splitting a code point.
std::string_view TruncateUtf8(std::string_view s, size_t max_bytes);

// Whether `s` is well-formed UTF-8 (no stray or truncated sequences, no
// overlong forms, surrogates or code points past U+10FFFF).
bool IsValidUtf8(std::string_view s);

// `s` with each byte that does not start a well-formed sequence replaced by
// U+FFFD. Valid text (the usual case) is checked at memory speed and copied
// whole; the in-place form then does not touch it.
std::string SanitizeUtf8(std::string_view s);
void SanitizeUtf8InPlace(std::string* text);

}  // namespace savoir
