// The per-format parsers behind ParseBytes (parser.h). Each takes the raw
// file bytes and returns a ParsedDocument with `format` set, or an error
// naming what is wrong with the file.
#pragma once

#include <string_view>

#include "common/status.h"
#include "ingest/parsed_document.h"

namespace savoir::parse {

Result<ParsedDocument> ParseText(std::string_view bytes);
Result<ParsedDocument> ParseMarkdown(std::string_view bytes);
// `charset_hint` comes from an enclosing container (e.g. a MIME part header).
Result<ParsedDocument> ParseHtml(std::string_view bytes, std::string_view charset_hint = "");
Result<ParsedDocument> ParsePdf(std::string_view bytes);
Result<ParsedDocument> ParseDocx(std::string_view bytes);
Result<ParsedDocument> ParseEml(std::string_view bytes);

}  // namespace savoir::parse
