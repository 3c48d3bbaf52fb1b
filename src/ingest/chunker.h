// Structure-aware chunking: a chunk is a run of whole blocks under one
// heading path, about `max_tokens` words long; headings start a new chunk;
// a block longer than the budget is cut at sentence, then word, boundaries.
// Every chunk is a byte range of the document text, so answers can cite and
// highlight the exact passage.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ingest/parsed_document.h"

namespace savoir {

struct ChunkSpan {
  uint32_t begin = 0, end = 0;  // byte range in ParsedDocument::text
  std::string heading_path;     // "Section > Subsection" (the title is not repeated)
  int32_t tokens = 0;
};

struct ChunkerOptions {
  int max_tokens = 512;  // words, counted as maximal runs of non-space bytes
  int min_tokens = 48;   // a heading does not cut a chunk shorter than this
};

std::vector<ChunkSpan> ChunkDocument(const ParsedDocument& doc, const ChunkerOptions& options = {});

// Number of whitespace-separated words in `text`.
int32_t CountWords(std::string_view text);

}  // namespace savoir
