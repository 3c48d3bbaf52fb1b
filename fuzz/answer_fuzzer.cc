// Sentence splitting, the extractive answerer and the chat-marker breaking
// on arbitrary bytes. The input is split at NUL bytes: question, then up to
// 4 passages (each with a language picked from its first byte).
#include <string>

#include "answer/chat_markers.h"
#include "answer/extractive.h"
#include "answer/sentences.h"
#include "fuzz_target.h"

using namespace savoir;

SAVOIR_FUZZ_TARGET(answer) {
  std::string_view in = fuzz::AsView(data, size);

  // The splitter alone, on the whole input, with and without a length cap.
  for (size_t max_bytes : {size_t{0}, size_t{1}, size_t{7}, size_t{600}}) {
    uint32_t prev_end = 0;
    for (const SentenceSpan& s : SplitSentences(in, max_bytes)) {
      SAVOIR_FUZZ_CHECK(s.begin < s.end);
      SAVOIR_FUZZ_CHECK(s.end <= in.size());
      SAVOIR_FUZZ_CHECK(s.begin >= prev_end);
      if (max_bytes > 0) SAVOIR_FUZZ_CHECK(s.end - s.begin <= std::max<size_t>(max_bytes, 4));
      prev_end = s.end;
    }
  }

  // Chat markers: once broken, none is left (breaking again changes nothing),
  // and only zero-width spaces were added.
  {
    const std::string once = DefangChatMarkers(in);
    SAVOIR_FUZZ_CHECK(DefangChatMarkers(once) == once);
    SAVOIR_FUZZ_CHECK(once.size() >= in.size() && (once.size() - in.size()) % 3 == 0);
  }

  auto parts = fuzz::SplitParts(in, 5);
  AnswerRequest req;
  req.question = std::string(parts[0]);
  static const char* const kLangs[] = {"", "en", "fr", "de"};
  for (size_t i = 1; i < parts.size(); ++i) {
    Passage p;
    p.n = static_cast<int>(i);
    p.doc_id = p.chunk_id = static_cast<int64_t>(i);
    p.title = "doc " + std::to_string(i);
    p.language = parts[i].empty() ? "" : kLangs[static_cast<uint8_t>(parts[i][0]) % 4];
    p.text = std::string(parts[i]);
    p.begin = static_cast<uint32_t>(i * 1000);
    req.passages.push_back(std::move(p));
  }
  req.language = size > 0 ? kLangs[data[size - 1] % 4] : "";

  static auto answerer = MakeExtractiveAnswerer();
  std::string streamed;
  auto r = answerer->Generate(req, [&](std::string_view d) {
    streamed += d;
    return true;
  });
  if (r.ok()) {
    SAVOIR_FUZZ_CHECK(streamed == r->text);
    for (const Citation& c : r->citations) {
      SAVOIR_FUZZ_CHECK(c.n >= 1 && static_cast<size_t>(c.n) <= req.passages.size());
      const Passage& p = req.passages[c.n - 1];
      SAVOIR_FUZZ_CHECK(c.start <= c.end);
      SAVOIR_FUZZ_CHECK(c.start >= p.begin && c.end <= p.begin + p.text.size());
    }
  }
  (void)NoAnswerText(req.language);
  return 0;
}
