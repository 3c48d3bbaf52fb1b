// The query path on arbitrary query bytes: Analyzer (several languages),
// DetectLanguage/DetectLanguageAmong, Searcher::Search over a tiny on-disk
// index (query analysis across corpus languages, BM25, the permission
// filter), and MakeSnippet on a fixed passage and on the input itself.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <unordered_set>

#include "fuzz_target.h"
#include "index/analyzer.h"
#include "index/keyword_index.h"
#include "retrieve/searcher.h"
#include "retrieve/snippet.h"

namespace {

using namespace savoir;

const char* const kPassages[][2] = {
    {"en", "Employees get 25 days of paid vacation per year. Ask your manager before booking."},
    {"en", "The on-call engineer escalates incidents to the duty manager after 15 minutes."},
    {"fr", "Les congés payés sont de 25 jours ouvrés par an ; l'employé en fait la demande."},
    {"fr", "L'astreinte : en cas d'incident, prévenir le responsable d'exploitation."},
    {"de", "Der Urlaub beträgt 30 Tage im Jahr."},
};

struct Corpus {
  std::string dir;
  std::unique_ptr<KeywordIndex> index;
  std::unique_ptr<Searcher> searcher;
};

Corpus* MakeCorpus() {
  auto* c = new Corpus;
  char tmpl[] = "/tmp/savoir-fuzz-query-XXXXXX";
  c->dir = mkdtemp(tmpl);
  auto idx = KeywordIndex::Open(c->dir);
  if (!idx.ok()) std::abort();
  c->index = std::move(idx.value());
  std::vector<IndexedChunk> chunks;
  int64_t id = 1;
  for (const auto& [lang, text] : kPassages) {
    IndexedChunk ic;
    ic.chunk_id = id;
    ic.doc_id = (id + 1) / 2;
    ic.updated_at = 1700000000 + id;
    std::vector<Token> toks;
    std::vector<std::string> variants;
    Analyzer::Analyze(text, lang, &toks, &variants);
    for (auto& t : toks) ic.terms.push_back(t.term);
    ic.length = static_cast<uint32_t>(ic.terms.size());
    for (size_t i = 1; i < toks.size(); ++i) ic.terms.push_back(BigramTerm(toks[i - 1].term, toks[i].term));
    for (auto& v : variants) ic.terms.push_back(v);
    ic.facets = {id % 2 ? "acl:public" : "acl:group:hr", "src:1", std::string("lang:") + lang};
    chunks.push_back(std::move(ic));
    ++id;
  }
  if (!c->index->Commit(chunks, {}, 1).ok()) std::abort();
  c->searcher = std::make_unique<Searcher>(*c->index, SearcherOptions{});
  static std::string dir_to_remove;
  dir_to_remove = c->dir;
  std::atexit([] {
    std::error_code ec;  // the index stays mapped until exit; only its folder goes
    std::filesystem::remove_all(dir_to_remove, ec);
  });
  return c;
}

void CheckTokens(const std::vector<Token>& toks, std::string_view text) {
  for (const auto& t : toks) {
    SAVOIR_FUZZ_CHECK(t.begin <= t.end);
    SAVOIR_FUZZ_CHECK(t.end <= text.size());
  }
}

}  // namespace

SAVOIR_FUZZ_TARGET(query) {
  static Corpus* corpus = MakeCorpus();
  std::string_view in = savoir::fuzz::AsView(data, size);
  std::string query(in);

  std::vector<Token> toks;
  for (const char* lang : {"en", "fr", "de", "xx", ""}) {
    toks.clear();
    std::vector<std::string> variants;
    Analyzer::Analyze(in, lang, &toks, &variants);
    CheckTokens(toks, in);
  }
  (void)Analyzer::Fold(in.substr(0, 64));
  bool reliable = false;
  (void)DetectLanguage(in, &reliable);
  (void)DetectLanguageAmong(in, {"en", "fr"}, &reliable);

  SearchRequest req;
  req.query = query;
  req.k = 3;
  req.principal.user = "alice";
  if (size > 0 && (data[0] & 1)) req.principal.groups = {"hr"};
  if (size > 0 && (data[0] & 2)) req.principal.all_access = true;
  auto hits = corpus->searcher->Search(req);
  if (hits.ok()) SAVOIR_FUZZ_CHECK(hits->size() <= req.k);

  auto snap = corpus->index->snapshot();
  AnalyzedQuery q = corpus->searcher->Analyze(query, *snap);
  std::unordered_set<std::string> terms;
  for (const auto& t : q.terms) terms.insert(t.term);
  for (const auto& [lang, text] : kPassages) {
    Snippet s = MakeSnippet(text, terms, lang, 8);
    SAVOIR_FUZZ_CHECK(s.begin <= s.end && s.end <= std::string_view(text).size());
  }
  Snippet s = MakeSnippet(in, terms, q.language.empty() ? "en" : q.language, 1 + size % 40);
  SAVOIR_FUZZ_CHECK(s.begin <= s.end && s.end <= in.size());
  (void)HtmlEscape(in);
  return 0;
}
