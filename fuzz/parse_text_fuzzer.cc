// Plain text in any encoding (BOMs, UTF-16, legacy 8-bit charsets detected
// by uchardet): ParseBytes as .txt, and once more as .csv (same parser,
// different name) for inputs whose first byte is odd.
#include "parse_common.h"

SAVOIR_FUZZ_TARGET(parse_text) {
  const char* name = size > 0 && (data[0] & 1) ? "table.csv" : "notes.txt";
  return savoir::fuzz::FuzzParse(data, size, name);
}
