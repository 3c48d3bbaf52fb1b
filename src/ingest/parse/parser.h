// Entry point for turning a file's bytes into a ParsedDocument.
// Parsing runs on untrusted input; callers that handle user files should go
// through ParseWorker (ingest/parse_worker.h), which isolates crashes and
// hangs in a child process. ParseBytes itself never throws for bad input.
#pragma once

#include <string_view>

#include "common/status.h"
#include "ingest/parsed_document.h"

namespace savoir {

// Chooses a parser from the file extension and the leading bytes (content
// wins for PDF, DOCX and HTML signatures). Errors:
//   kUnsupported  format we do not handle (message names it), encrypted PDF
//   kCorrupt      the bytes do not match the claimed format or are broken
//   kTooLarge     a container entry exceeds its size limit (zip bombs)
Result<ParsedDocument> ParseBytes(std::string_view bytes, std::string_view filename);

// True when the extension is one ParseBytes handles: text-ish files (.txt,
// .text, .md, .markdown, .rst, .org, .log, .csv, .tsv), .html/.htm/.xhtml,
// .pdf, .docx and .eml.
bool IsSupportedFile(std::string_view filename);

}  // namespace savoir
