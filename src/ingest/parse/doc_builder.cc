#include "ingest/parse/doc_builder.h"

#include <cctype>
#include <limits>

#include "ingest/parse/encoding.h"

namespace savoir::parse {

namespace {
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
}  // namespace

std::string_view Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && IsSpace(s[b])) ++b;
  while (e > b && IsSpace(s[e - 1])) --e;
  return s.substr(b, e - b);
}

std::string CollapseWhitespace(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool pending_space = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    // U+00A0 (no-break space) counts as whitespace here: it is layout glue.
    bool nbsp = c == '\xC2' && i + 1 < s.size() && s[i + 1] == '\xA0';
    if (IsSpace(c) || nbsp) {
      if (nbsp) ++i;
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string PrimaryLanguage(std::string_view tag) {
  tag = Trim(tag);
  size_t n = 0;
  while (n < tag.size() && std::isalpha(static_cast<unsigned char>(tag[n]))) ++n;
  if (n < 2 || n > 3) return "";
  if (n < tag.size() && tag[n] != '-' && tag[n] != '_') return "";
  return AsciiLower(tag.substr(0, n));
}

void DocBuilder::Add(BlockKind kind, std::string_view text, int level) {
  text = Trim(text);
  if (text.empty()) return;
  std::string clean;
  if (!IsValidUtf8(text)) {
    clean = SanitizeUtf8(text);
    text = clean;
  }
  if (!doc_.text.empty()) doc_.text += "\n\n";
  // Offsets are 32-bit; inputs are capped far below 4 GB, so stop rather than wrap.
  if (doc_.text.size() + text.size() > std::numeric_limits<uint32_t>::max()) return;
  Block block;
  block.kind = kind;
  block.level = kind == BlockKind::kHeading ? level : 0;
  block.begin = static_cast<uint32_t>(doc_.text.size());
  doc_.text.append(text);
  block.end = static_cast<uint32_t>(doc_.text.size());
  doc_.blocks.push_back(block);
}

}  // namespace savoir::parse
