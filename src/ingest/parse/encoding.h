// Character-set detection and conversion to UTF-8, shared by the text,
// markdown, HTML and e-mail parsers. Never fails: undecodable bytes become
// U+FFFD so a bad byte costs one character, not the document.
#pragma once

#include <string>
#include <string_view>

#include "common/utf8.h"  // SanitizeUtf8, IsValidUtf8

namespace savoir::parse {

// Returns `bytes` as UTF-8 with any byte-order mark removed.
// Order of evidence: BOM (UTF-8/16/32), `declared_charset` (e.g. from a MIME
// header or <meta charset>, ignored when empty or unknown to iconv), valid
// UTF-8, a UTF-16 NUL-byte pattern, then uchardet. ISO-8859-1 is read as
// windows-1252 (as browsers do) so that 0x80..0x9F (€, quotes) survive.
std::string ToUtf8(std::string_view bytes, std::string_view declared_charset = "");

// Converts from a named charset with iconv; invalid input -> U+FFFD.
// Returns false when iconv does not know the charset.
bool ConvertToUtf8(std::string_view bytes, std::string_view charset, std::string* out);

// "UTF-16LE"/"UTF-16BE"/"UTF-32LE"/"UTF-32BE" when `bytes` carries such a BOM
// or the NUL-byte pattern of BOM-less UTF-16 text; nullptr otherwise. For
// formats (e-mail) that are ASCII-framed unless a whole file was re-encoded.
const char* DetectWideEncoding(std::string_view bytes);

}  // namespace savoir::parse
