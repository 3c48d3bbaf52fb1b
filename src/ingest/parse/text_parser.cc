// Plain text (.txt, .log, .rst, .org, .csv): decode to UTF-8, split into
// paragraphs on blank lines. Lines inside a paragraph keep their breaks,
// since in logs and CSV the line is the unit of meaning.
#include <string>

#include "ingest/parse/doc_builder.h"
#include "ingest/parse/encoding.h"
#include "ingest/parse/formats.h"

namespace savoir::parse {
namespace {

// Titles are for display; a first line longer than this is prose, not a title.
constexpr size_t kMaxTitleBytes = 120;

std::string NormalizeNewlines(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else if (s[i] == '\0') {
      // NULs break C APIs downstream and carry no meaning in text.
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

Result<ParsedDocument> ParseText(std::string_view bytes) {
  std::string text = NormalizeNewlines(ToUtf8(bytes));
  DocBuilder builder("text");
  std::string paragraph;
  size_t pos = 0;
  bool title_done = false;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line(text.data() + pos, nl - pos);
    // Strip trailing spaces per line; they only bloat the index.
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    if (!title_done && !Trim(line).empty()) {
      title_done = true;
      std::string_view t = Trim(line);
      if (t.size() <= kMaxTitleBytes) builder.doc().title = std::string(t);
    }
    if (Trim(line).empty()) {
      builder.Add(BlockKind::kParagraph, paragraph);
      paragraph.clear();
    } else {
      if (!paragraph.empty()) paragraph += '\n';
      paragraph.append(line);
    }
    pos = nl + 1;
  }
  builder.Add(BlockKind::kParagraph, paragraph);
  return builder.Finish();
}

}  // namespace savoir::parse
