// ParseBytes on arbitrary bytes named "doc.html".
#include "parse_common.h"

SAVOIR_FUZZ_TARGET(parse_html) { return savoir::fuzz::FuzzParse(data, size, "doc.html"); }
