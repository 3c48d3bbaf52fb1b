// ParseBytes on arbitrary bytes named "doc.docx".
#include "parse_common.h"

SAVOIR_FUZZ_TARGET(parse_docx) { return savoir::fuzz::FuzzParse(data, size, "doc.docx"); }
