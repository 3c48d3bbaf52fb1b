// Shared body of the per-format parser harnesses: ParseBytes with a file
// name that selects the format (content sniffing may still override it, as
// in production), then the ParsedDocument invariants.
#pragma once

#include "fuzz_target.h"
#include "ingest/parse/parser.h"

namespace savoir::fuzz {

inline int FuzzParse(const uint8_t* data, size_t size, const char* filename) {
  auto r = ParseBytes(AsView(data, size), filename);
  if (r.ok()) CheckParsedDocument(*r);
  return 0;
}

}  // namespace savoir::fuzz
