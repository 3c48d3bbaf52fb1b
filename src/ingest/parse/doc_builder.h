// Appends blocks to a ParsedDocument while keeping `text` and the block
// offsets consistent: blocks are separated by exactly "\n\n", empty blocks
// are dropped, and every block is valid UTF-8.
#pragma once

#include <string>
#include <string_view>

#include "ingest/parsed_document.h"

namespace savoir::parse {

class DocBuilder {
 public:
  explicit DocBuilder(std::string format) { doc_.format = std::move(format); }

  // Trims surrounding whitespace; drops the block if nothing is left.
  void Add(BlockKind kind, std::string_view text, int level = 0);

  ParsedDocument& doc() { return doc_; }
  ParsedDocument Finish() { return std::move(doc_); }

 private:
  ParsedDocument doc_;
};

// Collapses runs of whitespace (including newlines and U+00A0) to one space
// and trims.
std::string CollapseWhitespace(std::string_view s);

// Trims ASCII whitespace at both ends.
std::string_view Trim(std::string_view s);

// Lower-cased ASCII copy.
std::string AsciiLower(std::string_view s);

// "de-DE" / "de_DE" -> "de"; empty when it does not look like a language tag.
std::string PrimaryLanguage(std::string_view tag);

}  // namespace savoir::parse
