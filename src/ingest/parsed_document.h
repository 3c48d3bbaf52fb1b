// What a parser hands to the chunker: plain UTF-8 text plus its structure.
// Offsets are byte offsets into `text`, so chunks (and later, citations) can
// point back to the exact passage.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace savoir {

enum class BlockKind : uint8_t { kHeading, kParagraph, kListItem, kCode, kTable, kQuote };

struct Block {
  BlockKind kind = BlockKind::kParagraph;
  int level = 0;        // heading level 1..6 for kHeading, 0 otherwise
  uint32_t begin = 0;   // [begin, end) in ParsedDocument::text
  uint32_t end = 0;
};

struct ParsedDocument {
  std::string title;        // may be empty: the caller falls back to the file name
  std::string text;         // UTF-8, blocks separated by "\n\n"
  std::vector<Block> blocks;  // in text order, non-overlapping
  std::string language;     // ISO 639-1 if the format declares it ("fr"), else empty
  std::string format;       // "markdown", "text", "html", "pdf", "docx", "eml"
  std::string author;       // when the format says (e-mail From, DOCX creator)
  int64_t created_at = 0;   // unix seconds when the format says (e-mail Date), else 0
  // Prepended to every chunk's heading path: where the document sits in its
  // source ("Engineering > Runbooks" for a Confluence page's ancestors).
  std::string heading_prefix;
};

}  // namespace savoir
