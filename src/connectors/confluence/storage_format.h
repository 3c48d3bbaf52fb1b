// Confluence "storage format" (the XHTML a page body is stored in, with
// ac:/ri: tags for macros, links and resources) to structured text:
// h1-h6 become heading blocks, tables one block with a line per row (cells
// joined by " | "), the code and noformat macros a code block holding their
// CDATA body, lists list items, the bodies of panel-like macros (info, note,
// expand...) their blocks; other macros (toc, children, jira, images...)
// are dropped with their parameters. HTML named entities are decoded.
#pragma once

#include <string_view>

#include "common/status.h"
#include "ingest/parsed_document.h"

namespace savoir {

// kCorrupt when the body is not well-formed XML even after entity repair.
Result<ParsedDocument> ConfluenceStorageToDocument(std::string_view storage);

}  // namespace savoir
