#include "common/utf8.h"

#include <cstdint>
#include <cstring>

namespace savoir {

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string_view TruncateUtf8(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return s;
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not
// one (a stray continuation byte, a truncated sequence, an overlong form, a
// surrogate, past U+10FFFF).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  unsigned char c = p[i];
  if (c < 0x80) return 1;
  size_t len;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F;
  else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07;
  else return 0;
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((p[i + k] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[i + k] & 0x3F);
  }
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return len;
}

// Where the first invalid sequence at or after `i` starts (s.size() when none).
// ASCII, most of most text, is stepped over eight bytes at a time.
size_t NextInvalidUtf8(std::string_view s, size_t i) {
  while (i < s.size()) {
    if (i + 8 <= s.size()) {
      uint64_t word;
      std::memcpy(&word, s.data() + i, 8);
      if ((word & 0x8080808080808080ull) == 0) {
        i += 8;
        continue;
      }
    }
    size_t len = Utf8SequenceLength(s, i);
    if (len == 0) return i;
    i += len;
  }
  return s.size();
}

}  // namespace

bool IsValidUtf8(std::string_view s) { return NextInvalidUtf8(s, 0) == s.size(); }

std::string SanitizeUtf8(std::string_view s) {
  std::string out(s);
  SanitizeUtf8InPlace(&out);
  return out;
}

void SanitizeUtf8InPlace(std::string* text) {
  std::string_view s = *text;
  size_t bad = NextInvalidUtf8(s, 0);
  if (bad == s.size()) return;
  std::string out;
  out.reserve(s.size() + 16);
  size_t i = 0;
  while (bad < s.size()) {
    out.append(s.substr(i, bad - i));
    out.append("\xEF\xBF\xBD");  // U+FFFD for the byte; the next one may start a valid sequence
    i = bad + 1;
    bad = NextInvalidUtf8(s, i);
  }
  out.append(s.substr(i));
  *text = std::move(out);
}

}  // namespace savoir
