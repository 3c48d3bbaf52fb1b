// ParseBytes on arbitrary bytes named "doc.pdf".
#include "parse_common.h"

SAVOIR_FUZZ_TARGET(parse_pdf) { return savoir::fuzz::FuzzParse(data, size, "doc.pdf"); }
