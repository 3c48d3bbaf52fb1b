// `.savoir-acl` parsing: an accepted list is never empty and holds only
// well-formed, distinct entries.
#include <algorithm>
#include <string>

#include "connectors/files/access_file.h"
#include "fuzz_target.h"

SAVOIR_FUZZ_TARGET(acl) {
  std::string text(savoir::fuzz::AsView(data, size));
  auto r = savoir::ParseAccessFile(text, "/docs/.savoir-acl");
  if (!r.ok()) return 0;
  SAVOIR_FUZZ_CHECK(!r->empty());
  for (size_t i = 0; i < r->size(); ++i) {
    const std::string& e = (*r)[i];
    SAVOIR_FUZZ_CHECK(e == "public" || e.rfind("user:", 0) == 0 || e.rfind("group:", 0) == 0);
    SAVOIR_FUZZ_CHECK(e.find_first_of(" \t\r\n#") == std::string::npos);
    SAVOIR_FUZZ_CHECK(std::count(r->begin(), r->end(), e) == 1);
  }
  return 0;
}
