// The JSON API's request decoding (server/request_parsing.h): a body is
// parsed once, then read as a search, a chat and an OpenAI chat request. An
// accepted request stays within the limits the server relies on; a date it
// accepts prints and reads back to the same second.
#include <string>

#include "fuzz_target.h"
#include "server/request_parsing.h"

SAVOIR_FUZZ_TARGET(api_request) {
  using namespace savoir;
  std::string_view body = fuzz::AsView(data, size);
  const RequestLimits limits;
  auto date = ParseDate(body);
  if (date.ok() && *date >= 0 && *date <= 253402300799) {  // years 1970..9999
    auto again = ParseDate(IsoTime(*date));
    SAVOIR_FUZZ_CHECK(again.ok() && *again == *date);
  }
  auto j = ParseJsonObject(body);
  if (!j.ok()) return 0;
  SAVOIR_FUZZ_CHECK(j->is_object());
  if (auto s = ParseSearchParams(*j, 10, limits); s.ok()) {
    SAVOIR_FUZZ_CHECK(s->query.size() <= limits.max_query_bytes);
    SAVOIR_FUZZ_CHECK(s->k >= 1 && s->k <= limits.max_k);
  }
  if (auto c = ParseChatParams(*j, limits); c.ok()) {
    SAVOIR_FUZZ_CHECK(c->search.query.size() <= limits.max_query_bytes);
    SAVOIR_FUZZ_CHECK(c->search.k >= 1 && c->search.k <= limits.max_k);
    SAVOIR_FUZZ_CHECK(c->history.size() <= limits.max_history);
    (void)StandaloneQuery(c->search.query, c->history);
  }
  if (auto o = ParseOpenAiChat(*j, limits); o.ok()) {
    SAVOIR_FUZZ_CHECK(o->query.size() <= limits.max_query_bytes);
    SAVOIR_FUZZ_CHECK(o->history.size() <= limits.max_history);
  }
  return 0;
}
