// Fuzzes the event-stream decoder (net/aws_eventstream): the bytes are fed
// whole and then in chunks whose sizes come from the input itself. Checks
// that both feedings agree, and that every decoded message re-encodes to a
// frame that decodes to the same message.
#include <algorithm>

#include "fuzz_target.h"
#include "net/aws_eventstream.h"

using namespace savoir;

SAVOIR_FUZZ_TARGET(eventstream) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  EventStreamDecoder whole;
  std::vector<EventStreamMessage> a;
  Status sa = whole.Feed(input, &a);

  EventStreamDecoder chunked;
  std::vector<EventStreamMessage> b;
  Status sb;
  size_t pos = 0, i = 0;
  while (pos < input.size() && sb.ok()) {
    size_t n = 1 + static_cast<unsigned char>(input[i++ % input.size()]) % 29;
    n = std::min(n, input.size() - pos);
    sb = chunked.Feed(input.substr(pos, n), &b);
    pos += n;
  }
  SAVOIR_FUZZ_CHECK(sa.ok() == sb.ok());
  SAVOIR_FUZZ_CHECK(a.size() == b.size());
  for (size_t k = 0; k < a.size(); ++k) {
    SAVOIR_FUZZ_CHECK(a[k].payload == b[k].payload);
    SAVOIR_FUZZ_CHECK(a[k].headers.size() == b[k].headers.size());
    auto frame = EncodeEventStreamMessage(a[k]);
    SAVOIR_FUZZ_CHECK(frame.ok());
    EventStreamDecoder again;
    std::vector<EventStreamMessage> c;
    SAVOIR_FUZZ_CHECK(again.Feed(*frame, &c).ok());
    SAVOIR_FUZZ_CHECK(c.size() == 1 && c[0].payload == a[k].payload && c[0].headers.size() == a[k].headers.size());
    for (size_t h = 0; h < c[0].headers.size(); ++h) {
      SAVOIR_FUZZ_CHECK(c[0].headers[h].first == a[k].headers[h].first);
      SAVOIR_FUZZ_CHECK(c[0].headers[h].second.integer == a[k].headers[h].second.integer);
      SAVOIR_FUZZ_CHECK(c[0].headers[h].second.bytes == a[k].headers[h].second.bytes);
    }
  }
  return 0;
}
