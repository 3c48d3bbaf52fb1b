// Binary framing of Result<ParsedDocument> between ParseWorker and its child.
// Internal to parse_worker.cc; in a header only so it can be unit-tested.
// Both ends are the same binary, so host byte order is fine.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "ingest/parsed_document.h"

namespace savoir::wire {

std::string Encode(const Result<ParsedDocument>& result);

// Validates everything (lengths, block offsets, enum ranges); a malformed
// payload yields kInternal "malformed worker response: ...".
Result<ParsedDocument> Decode(std::string_view payload);

}  // namespace savoir::wire
