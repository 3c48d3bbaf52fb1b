// ParseBytes on arbitrary bytes named "message.eml".
#include "parse_common.h"

SAVOIR_FUZZ_TARGET(parse_eml) { return savoir::fuzz::FuzzParse(data, size, "message.eml"); }
