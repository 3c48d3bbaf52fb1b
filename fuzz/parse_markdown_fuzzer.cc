// ParseBytes on arbitrary bytes named "doc.md".
#include "parse_common.h"

SAVOIR_FUZZ_TARGET(parse_markdown) { return savoir::fuzz::FuzzParse(data, size, "doc.md"); }
