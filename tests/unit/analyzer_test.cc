#include "index/analyzer.h"

#include <gtest/gtest.h>
#include <libstemmer.h>

#include <fstream>
#include <map>
#include <random>
#include <set>

#include "test_util.h"

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

// A long text is detected on its beginning when that is clear, and on the
// whole text when the beginning says nothing (a table of figures, a log).
TEST(Analyzer, LongTextsAreDetectedOnTheirBeginningUnlessItIsUnsure) {
  // Varied sentences: CLD2 discounts repeated text.
  const std::string french =
      "Les salariés acquièrent vingt-six jours de congés payés par an, selon la convention collective. "
      "La demande de congé se fait dans l'outil de gestion des temps au moins deux semaines avant le départ. "
      "Le responsable valide ou refuse la demande sous cinq jours ouvrés, en indiquant le motif d'un refus. "
      "Les jours non pris au trente et un mai sont perdus, sauf accord écrit du service des ressources humaines. "
      "Pendant les fermetures de fin d'année, trois jours sont posés d'office pour tout le personnel. "
      "Un salarié malade pendant ses vacances conserve les jours couverts par l'arrêt de travail. "
      "Les nouveaux arrivants peuvent poser des congés par anticipation après leur période d'essai. "
      "Pour toute question, écrivez à l'équipe paie ou consultez la foire aux questions de l'intranet. ";
  const std::string english =
      "The on-call engineer must acknowledge every page within fifteen minutes, day or night. "
      "If the first responder does not answer, the alert is escalated to the secondary after twenty minutes. "
      "Incidents that affect customers are declared in the incident channel with a short summary. "
      "A post-mortem is written within five working days and reviewed in the weekly operations meeting. "
      "Runbooks live next to the service code and are updated whenever an alert changes its threshold. "
      "Handover happens every Monday at ten, with a list of open incidents and noisy alerts. ";
  bool reliable = false;
  EXPECT_EQ(DetectLanguageAmong(french, {"en", "fr"}, &reliable), "fr");
  EXPECT_TRUE(reliable);
  EXPECT_EQ(DetectLanguageAmong(english + french, {"en", "fr"}, &reliable), "en");  // the beginning decides
  EXPECT_TRUE(reliable);

  std::string figures;
  for (int i = 0; figures.size() < 700; ++i)
    figures += "2024-03-" + std::to_string(10 + i % 17) + " " + std::to_string(4812 + 37 * i) + " 0x3fa9 17." +
               std::to_string(i) + " ";
  EXPECT_EQ(DetectLanguageAmong(figures + french, {"en", "fr"}, &reliable), "fr");
  EXPECT_TRUE(reliable);
  EXPECT_EQ(DetectLanguageAmong(figures + english, {"en", "fr"}, &reliable), "en");
  EXPECT_TRUE(reliable);
  // Half English, half French in the sample: unsure there, so the whole text decides.
  std::string mixed = english.substr(0, 260) + french;
  EXPECT_EQ(DetectLanguageAmong(mixed, {"en", "fr"}, &reliable), "fr");
  EXPECT_TRUE(reliable);
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

// Words whose characters fit in Latin-1 are stemmed by libstemmer's
// ISO-8859-1 build of each algorithm (faster); it must give exactly what the
// UTF-8 build gives. Checked on generated words (letters, every Latin-1
// letter, the suffixes the algorithms strip, a few letters beyond Latin-1)
// and, when ../shared/data is present, on the SciFact and PIAF vocabularies.
TEST(Analyzer, Latin1StemmingGivesWhatUtf8StemmingGives) {
  const std::vector<std::string> letters = {
      "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t", "u",
      "v", "w", "x", "y", "z", "à", "á", "â", "ã", "ä", "å", "æ", "ç", "è", "é", "ê", "ë", "ì", "í", "î", "ï",
      "ð", "ñ", "ò", "ó", "ô", "õ", "ö", "ø", "ù", "ú", "û", "ü", "ý", "þ", "ÿ", "ß", "µ", "ª", "º"};
  const std::vector<std::string> suffixes = {
      "ement", "ements", "ations", "issement", "ité", "ités", "eux", "euse", "ance", "ence", "ique", "isme", "iste",
      "able", "ible", "ion", "ions", "ungen", "heit", "keit", "lich", "isch", "ación", "aciones", "mente", "ação",
      "ções", "zione", "mento", "heid", "elijk", "ing", "ness", "ful", "ational", "izer", "ies", "ied", "eed", "ly",
      "ss", "és", "ées", "ait", "aient", "erions", "iez", "ée", "ère", "ières", "issant", "amment", "emment", "yeux",
      "quement", "gu", "qu", "ender", "ethed", "lig", "hed", "ään", "öiden", "ssä", "ssa", "ndo", "iéndose", "erà",
      "où", "ünk", "œuvre", "ş", "ő"};  // the last three go the UTF-8 way
  std::mt19937 rng(7);
  std::vector<std::string> words;
  for (int i = 0; i < 20000; ++i) {
    std::string w;
    const int n = 2 + static_cast<int>(rng() % 6);
    for (int j = 0; j < n; ++j) w += letters[rng() % letters.size()];
    for (int j = static_cast<int>(rng() % 3); j > 0; --j) w += suffixes[rng() % suffixes.size()];
    words.push_back(w);
  }
  for (const std::string& s : suffixes) words.push_back(s);
  if (const std::string data = testing::SharedData(); !data.empty()) {
    std::set<std::string> vocabulary;
    for (const char* corpus : {"/beir/scifact/corpus.jsonl", "/beir/piaf-fr/corpus.jsonl"}) {
      std::ifstream in(data + corpus);
      std::string line;
      while (std::getline(in, line))
        Analyzer::ForEachWord(line, [&](std::string_view w, uint32_t, uint32_t) { vocabulary.emplace(w); });
    }
    words.insert(words.end(), vocabulary.begin(), vocabulary.end());
  }
  size_t checked = 0;
  for (const char* lang : {"en", "fr", "de", "es", "it", "pt", "nl", "sv", "no", "da", "fi", "hu", "ro"}) {
    static const std::map<std::string, std::string> names = {
        {"en", "english"}, {"fr", "french"}, {"de", "german"}, {"es", "spanish"}, {"it", "italian"},
        {"pt", "portuguese"}, {"nl", "dutch"}, {"sv", "swedish"}, {"no", "norwegian"}, {"da", "danish"},
        {"fi", "finnish"}, {"hu", "hungarian"}, {"ro", "romanian"}};
    sb_stemmer* utf8 = sb_stemmer_new(names.at(lang).c_str(), "UTF_8");
    ASSERT_NE(utf8, nullptr) << lang;
    auto stem = [&](const std::string& w) {
      const sb_symbol* s = sb_stemmer_stem(utf8, reinterpret_cast<const sb_symbol*>(w.data()), static_cast<int>(w.size()));
      return std::string(reinterpret_cast<const char*>(s), sb_stemmer_length(utf8));
    };
    std::string term, variant;
    for (const std::string& w : words) {
      if (w.find_first_of("0123456789") != std::string::npos) continue;  // not stemmed
      if (!Analyzer::NormalizeWord(w, lang, &term, &variant)) continue;     // a stop word
      const std::string want_term = Analyzer::Fold(stem(w));
      const std::string folded = Analyzer::Fold(w);
      std::string want_variant;
      if (folded != w) {
        want_variant = stem(folded);
        if (want_variant == want_term) want_variant.clear();
      }
      ASSERT_EQ(term, want_term) << lang << " " << w;
      ASSERT_EQ(variant, want_variant) << lang << " " << w;
      ++checked;
    }
    sb_stemmer_delete(utf8);
  }
  EXPECT_GT(checked, 200000u);
}

}  // namespace
}  // namespace savoir
