#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "answer/chat_markers.h"
#include "answer/extractive.h"
#include "answer/sentences.h"

namespace savoir {
namespace {

std::vector<std::string> Split(std::string_view text) {
  std::vector<std::string> out;
  for (const auto& s : SplitSentences(text)) out.emplace_back(text.substr(s.begin, s.end - s.begin));
  return out;
}

using Sentences = std::vector<std::string>;

// Markers of the common chat templates inside a passage or a question are
// broken (a zero-width space after their first character) before the
// messages go to a remote model; other text is left as it is.
TEST(ChatMarkers, TemplateMarkersAreBrokenOtherTextIsNot) {
  const std::string zw = "\xE2\x80\x8B";
  EXPECT_EQ(DefangChatMarkers("x<|im_end|>\n<|im_start|>system"), "x<" + zw + "|im_end|>\n<" + zw + "|im_start|>system");
  EXPECT_EQ(DefangChatMarkers("<|eot_id|><|start_header_id|>system<|end_header_id|>"),
            "<" + zw + "|eot_id|><" + zw + "|start_header_id|>system<" + zw + "|end_header_id|>");
  EXPECT_EQ(DefangChatMarkers("[INST] do [/INST] <<SYS>>x<</SYS>> <s></s>"),
            "[" + zw + "INST] do [" + zw + "/INST] <" + zw + "<SYS>>x<" + zw + "</SYS>> <" + zw + "s><" + zw + "/s>");
  EXPECT_EQ(DefangChatMarkers("<start_of_turn>user<end_of_turn>"), "<" + zw + "start_of_turn>user<" + zw + "end_of_turn>");
  EXPECT_EQ(DefangChatMarkers("<｜end▁of▁sentence｜>"), "<" + zw + "｜end▁of▁sentence｜>");
  // Not markers: ordinary text, code and comparisons stay byte for byte.
  for (const std::string& plain : std::vector<std::string>{"a < b | c > d", "<| |>", "<||>", "x <|a b|> y", "if (a<b && c>d) return [1];", "<div>[1] see [2]</div>",
        "Les congés payés [1].", "<|" + std::string(60, 'a') + "|>", "", "<", "<|", "[INST"})
    EXPECT_EQ(DefangChatMarkers(plain), plain) << plain;
}

TEST(AnswerSentences, EnglishBasics) {
  EXPECT_EQ(Split("Hello world. How are you? Fine!"),
            (Sentences{"Hello world.", "How are you?", "Fine!"}));
  EXPECT_EQ(Split("  Trailing spaces.   "), (Sentences{"Trailing spaces."}));
  EXPECT_EQ(Split("Wait... What happened? Nothing…  Really."),
            (Sentences{"Wait...", "What happened?", "Nothing…", "Really."}));
  EXPECT_TRUE(Split("").empty());
  EXPECT_TRUE(Split(" \n\n ").empty());
}

TEST(AnswerSentences, EnglishAbbreviationsAndInitials) {
  EXPECT_EQ(Split("Dr. Smith met Mr. Jones. They talked."),
            (Sentences{"Dr. Smith met Mr. Jones.", "They talked."}));
  EXPECT_EQ(Split("Use a tool, e.g. A hammer, i.e. The big one. Done."),
            (Sentences{"Use a tool, e.g. A hammer, i.e. The big one.", "Done."}));
  EXPECT_EQ(Split("J. K. Rowling wrote it. Apples vs. Oranges is a game."),
            (Sentences{"J. K. Rowling wrote it.", "Apples vs. Oranges is a game."}));
  EXPECT_EQ(Split("See No. 5 and art. 12 of the code. Modern art. Then more."),
            (Sentences{"See No. 5 and art. 12 of the code.", "Modern art.", "Then more."}));
}

TEST(AnswerSentences, NumbersUrlsEmails) {
  EXPECT_EQ(Split("It costs 3.5 dollars. Il coûte 3,5 euros. Fin."),
            (Sentences{"It costs 3.5 dollars.", "Il coûte 3,5 euros.", "Fin."}));
  EXPECT_EQ(Split("Go to www.example.com/a.html now. Mail jean.dupont@example.fr today. Ok."),
            (Sentences{"Go to www.example.com/a.html now.", "Mail jean.dupont@example.fr today.", "Ok."}));
  EXPECT_EQ(Split("In 2003. The end."), (Sentences{"In 2003.", "The end."}));
}

TEST(AnswerSentences, FrenchSpacingAndGuillemets) {
  EXPECT_EQ(Split("Qu'est-ce que c'est ? C'est un test ! Voilà."),
            (Sentences{"Qu'est-ce que c'est ?", "C'est un test !", "Voilà."}));
  // No-break spaces (U+00A0, U+202F) before ? and inside guillemets.
  EXPECT_EQ(Split("Vraiment\u202F? Oui.\u00A0Il a dit\u00A0: «\u00A0Viens.\u00A0» Puis il partit."),
            (Sentences{"Vraiment\u202F?", "Oui.", "Il a dit\u00A0: «\u00A0Viens.\u00A0»", "Puis il partit."}));
  EXPECT_EQ(Split("Il a crié « Au secours ! » et s'est enfui. Personne ne vint."),
            (Sentences{"Il a crié « Au secours ! » et s'est enfui.", "Personne ne vint."}));
  EXPECT_EQ(Split("« Quoi ? » demanda-t-il. Rien."),
            (Sentences{"« Quoi ? » demanda-t-il.", "Rien."}));
}

TEST(AnswerSentences, FrenchAbbreviations) {
  EXPECT_EQ(Split("M. Dupont et Mme. Martin sont là. Ils parlent."),
            (Sentences{"M. Dupont et Mme. Martin sont là.", "Ils parlent."}));
  EXPECT_EQ(Split("Des fruits, p. ex. Des pommes. Voir art. 3, cf. Annexe, etc. Ensuite n° 4 suit. Né en 52 av. J.-C. À Rome."),
            (Sentences{"Des fruits, p. ex. Des pommes.", "Voir art. 3, cf. Annexe, etc. Ensuite n° 4 suit.",
                       "Né en 52 av. J.-C. À Rome."}));
}

TEST(AnswerSentences, LineBreaks) {
  EXPECT_EQ(Split("Histoire\n\nLa ville fut fondée en 1200. Elle grandit.\nUne ligne\ncoupée en deux."),
            (Sentences{"Histoire", "La ville fut fondée en 1200.", "Elle grandit.", "Une ligne\ncoupée en deux."}));
  EXPECT_EQ(Split("- premier point\n- second point"), (Sentences{"- premier point", "- second point"}));
}

TEST(AnswerSentences, LongSentencesAreCut) {
  std::string text;
  for (int i = 0; i < 200; ++i) text += "mot ";
  auto spans = SplitSentences(text, 100);
  ASSERT_GT(spans.size(), 5u);
  for (const auto& s : spans) {
    EXPECT_LE(s.end - s.begin, 100u);
    EXPECT_NE(text[s.begin], ' ');
  }
}

Passage MakePassage(int n, std::string text, uint32_t begin, std::string language = "en") {
  Passage p;
  p.n = n;
  p.doc_id = 100 + n;
  p.chunk_id = 1000 + n;
  p.title = "Doc " + std::to_string(n);
  p.text = std::move(text);
  p.begin = begin;
  p.language = std::move(language);
  return p;
}

Result<Answer> Answerer(const AnswerRequest& req, std::string* streamed = nullptr) {
  auto gen = MakeExtractiveAnswerer();
  return gen->Generate(req, [&](std::string_view d) {
    if (streamed) streamed->append(d);
    return true;
  });
}

TEST(AnswerExtractive, PicksTheAnsweringSentenceWithCitation) {
  // The documents' contents; each passage is a slice of one.
  std::string doc1 = "Intro text here. The office is open on Mondays. Parking is free for visitors.";
  std::string doc2 = "Other things first. Holidays are booked in the HR portal. The HR portal is at hr.example.com. "
                     "Requests need two weeks of notice.";
  AnswerRequest req;
  req.question = "How do I book holidays?";
  req.language = "en";
  req.passages.push_back(MakePassage(1, doc1.substr(17), 17));
  req.passages.push_back(MakePassage(2, doc2, 0));
  std::string streamed;
  auto a = Answerer(req, &streamed);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->mode, "extractive");
  EXPECT_EQ(streamed, a->text);
  ASSERT_FALSE(a->citations.empty());
  EXPECT_NE(a->text.find("Holidays are booked in the HR portal. [2]"), std::string::npos) << a->text;
  bool found = false;
  for (const auto& c : a->citations) {
    if (c.n != 2) continue;
    EXPECT_EQ(c.doc_id, 102);
    EXPECT_EQ(c.chunk_id, 1002);
    if (doc2.substr(c.start, c.end - c.start) == "Holidays are booked in the HR portal.") found = true;
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(a->text.find("Mondays"), std::string::npos) << a->text;
}

TEST(AnswerExtractive, ByteRangeUsesPassageOffset) {
  std::string content = "Titre\n\nPremière partie sans rapport. Le siège social est situé à Lyon depuis 1998. Fin.";
  size_t begin = content.find("Première");
  AnswerRequest req;
  req.question = "Où est situé le siège social ?";
  req.language = "fr";
  req.passages.push_back(MakePassage(3, content.substr(begin), static_cast<uint32_t>(begin), "fr"));
  auto a = Answerer(req);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->citations.size(), 1u) << a->text;
  const Citation& c = a->citations[0];
  EXPECT_EQ(c.n, 3);
  EXPECT_EQ(content.substr(c.start, c.end - c.start), "Le siège social est situé à Lyon depuis 1998.");
  EXPECT_EQ(a->text, "Le siège social est situé à Lyon depuis 1998. [3]");
}

TEST(AnswerExtractive, HeadingLendsItsTermsToTheNextSentence) {
  AnswerRequest req;
  req.question = "Quels sont les horaires de la cantine ?";
  req.language = "fr";
  req.passages.push_back(MakePassage(1, "Horaires de la cantine\n\nOuverte de 11 h 30 à 14 h du lundi au vendredi.\n\n"
                                        "Tarifs\n\nLe repas coûte 4 euros.", 0, "fr"));
  auto a = Answerer(req);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->text.rfind("Ouverte de 11 h 30", 0), 0u) << a->text;
}

TEST(AnswerExtractive, NoMatchSaysSoInTheQuestionLanguage) {
  AnswerRequest req;
  req.question = "Quelle est la couleur du cheval blanc d'Henri IV ?";
  req.language = "fr";
  req.passages.push_back(MakePassage(1, "Le budget annuel est voté en décembre.", 0, "fr"));
  std::string streamed;
  auto a = Answerer(req, &streamed);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->citations.empty());
  EXPECT_EQ(a->text, NoAnswerText("fr"));
  EXPECT_EQ(streamed, a->text);
  req.question = "What colour is the sky?";
  req.language = "";
  a = Answerer(req);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->text, NoAnswerText("en"));
  req.passages.clear();
  a = Answerer(req);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->text, NoAnswerText("en"));
}

AnswerRequest ThreeFacts() {
  AnswerRequest req;
  req.question = "When was the bridge built and how long is the bridge?";
  req.language = "en";
  req.passages.push_back(MakePassage(1, "The bridge was built in 1932. The bridge is 500 metres long.", 0));
  req.passages.push_back(MakePassage(2, "Cars cross the bridge since 1933. The river is wide.", 0));
  return req;
}

TEST(AnswerExtractive, StreamingDeltasConcatenateToTheText) {
  std::vector<std::string> deltas;
  auto gen = MakeExtractiveAnswerer();
  auto a = gen->Generate(ThreeFacts(), [&](std::string_view d) {
    deltas.emplace_back(d);
    return true;
  });
  ASSERT_TRUE(a.ok());
  ASSERT_GE(deltas.size(), 2u);
  std::string all;
  for (const auto& d : deltas) all += d;
  EXPECT_EQ(all, a->text);
  EXPECT_EQ(deltas.size(), a->citations.size());
}

TEST(AnswerExtractive, StopsWhenTheSinkSaysSo) {
  int calls = 0;
  auto gen = MakeExtractiveAnswerer();
  auto a = gen->Generate(ThreeFacts(), [&](std::string_view) {
    ++calls;
    return false;
  });
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(a->citations.size(), 1u);
}

TEST(AnswerExtractive, HostileInputDoesNotCrash) {
  auto gen = MakeExtractiveAnswerer();
  DeltaSink sink = [](std::string_view) { return true; };
  AnswerRequest req;
  req.question = "bridge \xFF\xFE length";
  req.passages.push_back(MakePassage(1, "", 0));
  req.passages.push_back(MakePassage(2, "The bridge \xC3 is \xE2\x82 long\xF0\x9F. Bridge!", 0));
  std::string big;
  big.reserve(1 << 20);
  while (big.size() < (1 << 20)) big += "bridge length word \xC3\xA9t\xC3\xA9 \xE2\x80\xA6 ";
  req.passages.push_back(MakePassage(3, big, 0));
  auto a = gen->Generate(req, sink);
  ASSERT_TRUE(a.ok());
  EXPECT_FALSE(a->text.empty());
  for (const auto& c : a->citations) EXPECT_LE(c.start, c.end);
  // Only garbage, and an empty question.
  req.question = "";
  req.passages = {MakePassage(1, std::string(1000, '\x80'), 0), MakePassage(2, std::string(300, '.'), 0)};
  a = gen->Generate(req, nullptr);
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a->citations.empty());
  for (const char* t : {"\xE2\x80", "\xC2", ".\xC2\xA0", "\n\n\n", "a.\xE2\x80\xAF"}) SplitSentences(t, 3);
}

// The answerer runs on every question: 8 passages of 512 words must take
// well under the 2 ms budget in an optimized build (the bound here is loose
// for sanitizer and debug builds).
// Eight long passages are answered (speed is measured by `savoir eval --answers`,
// never asserted here: the machine may be loaded or sanitized).
TEST(AnswerExtractive, AnswersFromEightLongPassages) {
  const char* words[] = {"le", "conseil", "municipal", "a", "voté", "budget", "de", "la", "ville",
                         "en", "2019", "pour", "financer", "écoles", "et", "routes", "nouvelles"};
  AnswerRequest req;
  req.question = "Quand le conseil municipal a-t-il voté le budget des écoles ?";
  req.language = "fr";
  for (int p = 0; p < 8; ++p) {
    std::string text;
    for (int w = 0; w < 512; ++w) {
      text += words[(w * 7 + p) % 17];
      text += (w % 23 == 22) ? ". Ensuite " : " ";
    }
    req.passages.push_back(MakePassage(p + 1, text, 0, "fr"));
  }
  auto gen = MakeExtractiveAnswerer();
  auto a = gen->Generate(req, nullptr);
  ASSERT_TRUE(a.ok());
  ASSERT_FALSE(a->citations.empty());
  EXPECT_NE(a->text.find("2019"), std::string::npos) << a->text;
}

}  // namespace
}  // namespace savoir
