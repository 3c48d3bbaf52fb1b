// UTF-8 validation and repair (common/utf8.h), used on every stored text.
#include "common/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace savoir {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(Utf8, WellFormedTextIsKeptAsIs) {
  for (std::string s : {std::string(""), std::string("plain ascii, longer than eight bytes"),
                        std::string("Les congés payés — 25 jours, 😀 émoji"), kFffd + " a real U+FFFD stays",
                        std::string("\xF4\x8F\xBF\xBF") /* U+10FFFF */}) {
    EXPECT_TRUE(IsValidUtf8(s)) << s;
    EXPECT_EQ(SanitizeUtf8(s), s);
  }
}

// Every ill-formed sequence is found wherever it sits relative to the
// eight-byte ASCII steps, and each of its bytes becomes one U+FFFD.
TEST(Utf8, EachBadByteBecomesOneReplacementCharacter) {
  const std::pair<std::string, std::string> bad[] = {
      {"\xFF", kFffd},                                          // never valid
      {"\x80", kFffd},                                          // stray continuation
      {"\xC3", kFffd},                                          // truncated
      {"\xC0\xAF", kFffd + kFffd},                              // overlong '/'
      {"\xE0\x80\xAF", kFffd + kFffd + kFffd},                  // overlong, 3 bytes
      {"\xED\xA0\x80", kFffd + kFffd + kFffd},                  // a surrogate (U+D800)
      {"\xF4\x90\x80\x80", kFffd + kFffd + kFffd + kFffd},      // past U+10FFFF
      {"\xE2\x82", kFffd + kFffd},                              // truncated euro sign
      {"\xE2\x82" "A", kFffd + kFffd + "A"},                     // cut by an ASCII byte
  };
  for (const auto& [seq, replaced] : bad) {
    for (size_t pad = 0; pad < 17; ++pad) {
      std::string before(pad, 'a'), after(17 - pad, 'z');
      std::string s = before + seq + after + "é";
      EXPECT_FALSE(IsValidUtf8(s)) << pad;
      EXPECT_EQ(SanitizeUtf8(s), before + replaced + after + "é") << pad;
      std::string in_place = s;
      SanitizeUtf8InPlace(&in_place);
      EXPECT_EQ(in_place, before + replaced + after + "é") << pad;
      EXPECT_TRUE(IsValidUtf8(in_place));
    }
  }
}

}  // namespace
}  // namespace savoir
