#include "index/analyzer.h"

#include <gtest/gtest.h>

#include <set>

namespace savoir {
namespace {

TEST(Analyzer, FrenchElisionStopWordsStemmingAndFolding) {
  auto t = Analyzer::Terms("L'économie d'énergie des entreprises françaises", "fr");
  EXPECT_EQ(t, (std::vector<std::string>{"econom", "energ", "entrepris", "francais"}));
}

TEST(Analyzer, EnglishStemmingAndStopWords) {
  auto t = Analyzer::Terms("The policies for running servers", "en");
  EXPECT_EQ(t, (std::vector<std::string>{"polici", "run", "server"}));
}

TEST(Analyzer, AccentsFoldAfterStemmingSoQueriesWithoutAccentsMatch) {
  EXPECT_EQ(Analyzer::Terms("congés", "fr"), Analyzer::Terms("conges", "fr"));
  // Where the stemmer treats accents differently, the index also holds the
  // accent-less stem.
  std::vector<Token> toks;
  std::vector<std::string> variants;
  Analyzer::Analyze("payés", "fr", &toks, &variants);
  EXPECT_EQ(variants, Analyzer::Terms("payes", "fr"));
  EXPECT_EQ(Analyzer::Fold("ÉLÈVE Œuvre Straße"), "eleve oeuvre strasse");
}

TEST(Analyzer, OffsetsPointAtTheSurfaceWords) {
  std::string text = "Héllo, wörld!";
  std::vector<Token> toks;
  Analyzer::Analyze(text, "de", &toks);
  ASSERT_EQ(toks.size(), 2u);
  EXPECT_EQ(text.substr(toks[0].begin, toks[0].end - toks[0].begin), "Héllo");
  EXPECT_EQ(text.substr(toks[1].begin, toks[1].end - toks[1].begin), "wörld");
}

TEST(Analyzer, NumbersAreKeptAndNotStemmed) {
  EXPECT_EQ(Analyzer::Terms("RFC 2616 et 3,5 %", "fr"), (std::vector<std::string>{"rfc", "2616", "3", "5"}));
}

TEST(Analyzer, HostileInputDoesNotCrash) {
  std::string bad = "\xff\xfe\xc3\x28 abc \xe2\x82 \xf0\x9f\x98";
  bad += std::string(10000, 'a');  // an overlong token is dropped
  auto t = Analyzer::Terms(bad, "en");
  EXPECT_EQ(t, (std::vector<std::string>{"abc"}));
  EXPECT_TRUE(Analyzer::Terms("", "xx").empty());
}

TEST(Analyzer, DetectsFrenchAndEnglishAmongCorpusLanguages) {
  bool reliable = false;
  EXPECT_EQ(DetectLanguageAmong("Les salariés acquièrent vingt-six jours de congés payés par an, selon la convention.",
                                {"en", "fr"}, &reliable), "fr");
  EXPECT_TRUE(reliable);
  EXPECT_EQ(DetectLanguageAmong("The on-call engineer must acknowledge every page within fifteen minutes.",
                                {"en", "fr"}, &reliable), "en");
}

// Highlighting analyzes only words that can match: same tokens, same
// offsets, and every word whose term is a query term still gets it.
TEST(Analyzer, AnalyzeForMatchFindsWhatAnalyzeFinds) {
  const std::pair<std::string, std::string> cases[] = {
      {"en", "The Élysée policies: servers running 24/7, yes, employees' élève skies dying."},
      {"fr", "Les congés payés des élèves à l'École: les employés prennent leurs congés en été."}};
  for (const auto& [lang, text] : cases) {
    std::vector<Token> all, some;
    Analyzer::Analyze(text, lang, &all);
    std::set<std::string> query;
    for (size_t i = 0; i < all.size(); i += 2) query.insert(all[i].term);
    std::string first;
    for (const auto& t : query) first.push_back(t[0]);
    Analyzer::AnalyzeForMatch(text, lang, first, &some);
    ASSERT_EQ(all.size(), some.size()) << lang;
    for (size_t i = 0; i < all.size(); ++i) {
      EXPECT_EQ(all[i].begin, some[i].begin);
      EXPECT_EQ(all[i].end, some[i].end);
      if (query.count(all[i].term)) EXPECT_EQ(some[i].term, all[i].term) << lang << " " << i;
      else EXPECT_FALSE(query.count(some[i].term)) << lang << " " << i;
    }
  }
}

}  // namespace
}  // namespace savoir
