// SegmentWriter's term order: words are interned, pairs ("a b") are kept as
// two word ids and ordered by the words' ranks, and a word holding a byte
// <= ' ' switches the writer to ordering built texts. Whatever the mix, the
// segment read back must hold exactly the terms and postings given, in
// strict byte order, from one writer or from slices, and a merge (terms
// re-added by text, or segments merged from their dictionaries) must write
// the same file.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "index/analyzer.h"
#include "index/segment.h"
#include "ingest/index_builder.h"
#include "test_util.h"

namespace savoir {
namespace {

using Postings = std::map<uint32_t, uint32_t>;  // local doc -> tf
using Expected = std::map<std::string, Postings>;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void CheckSegment(const std::string& path, const Expected& expected) {
  auto seg = Segment::Open(path);
  ASSERT_TRUE(seg.ok()) << seg.status().message();
  ASSERT_EQ((*seg)->n_terms(), expected.size());
  auto want = expected.begin();
  for (auto it = (*seg)->Terms(); it.Valid(); it.Next(), ++want) {
    ASSERT_NE(want, expected.end());
    ASSERT_EQ(std::string(it.term()), want->first);
    Postings got;
    for (PostingCursor c = (*seg)->Postings(it.info()); c.doc() != PostingCursor::kEnd; c.Next())
      got[c.doc()] = c.freq();
    ASSERT_EQ(got, want->second) << want->first;
    auto found = (*seg)->Find(want->first);
    ASSERT_TRUE(found.has_value()) << want->first;
    ASSERT_EQ(found->df, want->second.size());
  }
  EXPECT_EQ(want, expected.end());
}

// Builds docs of random words and pairs; `hostile` adds words with spaces,
// tabs, control bytes and empty sides.
struct Built {
  Expected expected;
  std::vector<std::vector<std::pair<int, int>>> docs;  // per doc: (word index, next word index or -1)
};

std::vector<std::string> Vocabulary(bool hostile) {
  std::vector<std::string> v = {"a", "ab", "abc", "b", "ba", "z", "zz", "0", "9x", "\xc3\xa9t\xc3\xa9",
                                "\xe2\x82\xac", std::string(40, 'q'), "a0", "ab0", "ab z", "z a"};
  for (int i = 0; i < 60; ++i) v.push_back("w" + std::to_string(i * 7919 % 1000));
  if (hostile) {
    for (std::string s : {"a\tb", "x\x01", " lead", "trail ", "two  spaces", "a b c", "\x1f", "!", "a!"})
      v.push_back(s);
  }
  return v;
}

void Fill(SegmentWriter& w, std::mt19937& rng, const std::vector<std::string>& vocab, uint32_t local,
          Expected* expected) {
  std::uniform_int_distribution<size_t> pick(0, vocab.size() - 1);
  std::vector<uint32_t> ids;
  std::vector<std::string> words;
  const int n = 1 + static_cast<int>(rng() % 30);
  for (int i = 0; i < n; ++i) {
    const std::string& t = vocab[pick(rng)];
    ids.push_back(w.AddTerm(local, t));
    words.push_back(t);
    // A text of two plain words given as a term is the pair itself.
    const size_t sp = t.find(' ');
    const bool plain_pair = sp != std::string::npos && sp > 0 && sp + 1 < t.size() &&
                            t.find(' ', sp + 1) == std::string::npos &&
                            std::none_of(t.begin(), t.end(), [](char c) { return static_cast<unsigned char>(c) < ' '; });
    EXPECT_EQ(ids.back() == SegmentWriter::kNoTerm, plain_pair) << t;
    ++(*expected)[t][local];
  }
  for (size_t i = 1; i < ids.size(); ++i) {
    if (ids[i - 1] == SegmentWriter::kNoTerm || ids[i] == SegmentWriter::kNoTerm) continue;
    w.AddPair(local, ids[i - 1], ids[i]);
    ++(*expected)[words[i - 1] + " " + words[i]][local];
  }
}

void RunCase(bool hostile, uint32_t seed) {
  testing::TempDir dir;
  std::mt19937 rng(seed);
  const auto vocab = Vocabulary(hostile);
  Expected expected;
  SegmentWriter whole;
  std::vector<SegmentWriter> slices(3);
  const uint32_t n_docs = 400;
  for (uint32_t d = 0; d < n_docs; ++d) {
    std::mt19937 doc_rng(seed * 1000 + d);
    Expected ignored;
    whole.AddDoc(d + 1, d + 1, 0, 10);
    Fill(whole, doc_rng, vocab, d, &expected);
    SegmentWriter& s = slices[d < 100 ? 0 : d < 250 ? 1 : 2];
    const uint32_t local = s.AddDoc(d + 1, d + 1, 0, 10);
    std::mt19937 again(seed * 1000 + d);
    Fill(s, again, vocab, local, &ignored);
  }
  ASSERT_TRUE(whole.Write(dir / "whole").ok());
  ASSERT_TRUE(SegmentWriter::WriteParts({&slices[0], &slices[1], &slices[2]}, dir / "sliced").ok());
  CheckSegment(dir / "whole", expected);
  EXPECT_EQ(ReadAll(dir / "whole"), ReadAll(dir / "sliced"));

  // Re-added term by term, by text, as KeywordIndex::Merge does.
  auto seg = Segment::Open(dir / "whole");
  ASSERT_TRUE(seg.ok());
  SegmentWriter copy;
  for (uint32_t d = 0; d < n_docs; ++d) copy.AddDoc(d + 1, d + 1, 0, 10);
  for (auto it = (*seg)->Terms(); it.Valid(); it.Next()) {
    const uint32_t id = copy.TermId(it.term());
    for (PostingCursor c = (*seg)->Postings(it.info()); c.doc() != PostingCursor::kEnd; c.Next())
      copy.AddPosting(id, c.doc(), c.freq());
  }
  ASSERT_TRUE(copy.Write(dir / "copy").ok());
  EXPECT_EQ(ReadAll(dir / "whole"), ReadAll(dir / "copy"));

  // The slices as segments of their own, merged from their dictionaries
  // (WriteMerged, as KeywordIndex::Merge does): the same file again.
  std::vector<std::shared_ptr<Segment>> parts;
  std::vector<const Segment*> sources;
  std::vector<std::vector<uint32_t>> remap;
  SegmentWriter merged;
  for (size_t i = 0; i < slices.size(); ++i) {
    const std::string path = dir / ("slice" + std::to_string(i));
    ASSERT_TRUE(slices[i].Write(path).ok());
    auto part = Segment::Open(path);
    ASSERT_TRUE(part.ok());
    parts.push_back(*part);
    sources.push_back(parts.back().get());
    remap.emplace_back();
    for (uint32_t l = 0; l < (*part)->n_docs(); ++l)
      remap.back().push_back(merged.AddDoc((*part)->chunk_id(l), (*part)->doc_id(l), 0, (*part)->doc_len(l)));
  }
  ASSERT_TRUE(merged.WriteMerged(sources, remap, dir / "merged").ok());
  EXPECT_EQ(ReadAll(dir / "whole"), ReadAll(dir / "merged"));
  // Postings spilled to a scratch file before every list (as a big merge
  // does every 8 MB): the same file, and no scratch file left behind.
  ASSERT_TRUE(merged.WriteMerged(sources, remap, dir / "spilled", /*spill_above=*/0).ok());
  EXPECT_EQ(ReadAll(dir / "whole"), ReadAll(dir / "spilled"));
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) files += e.is_regular_file();
  EXPECT_EQ(files, 2 + slices.size() + 3u);  // whole, sliced, the slices, copy, merged, spilled

  // Dropping docs: every doc of the middle slice deleted leaves the other
  // slices' postings, renumbered.
  SegmentWriter thinned;
  Expected left;
  std::vector<std::vector<uint32_t>> thin_remap(sources.size());
  for (size_t i = 0; i < sources.size(); ++i)
    for (uint32_t l = 0; l < sources[i]->n_docs(); ++l)
      thin_remap[i].push_back(i == 1 ? PostingCursor::kEnd
                                     : thinned.AddDoc(sources[i]->chunk_id(l), sources[i]->doc_id(l), 0, 10));
  for (const auto& [term, postings] : expected)
    for (const auto& [doc, tf] : postings) {
      if (doc >= 100 && doc < 250) continue;
      left[term][doc < 100 ? doc : doc - 150] = tf;
    }
  ASSERT_TRUE(thinned.WriteMerged(sources, thin_remap, dir / "thinned").ok());
  CheckSegment(dir / "thinned", left);
  ASSERT_TRUE(thinned.WriteMerged(sources, thin_remap, dir / "thinned-spilled", 0).ok());
  EXPECT_EQ(ReadAll(dir / "thinned"), ReadAll(dir / "thinned-spilled"));
}

TEST(SegmentWriter, WordsAndPairsReadBackInByteOrder) {
  for (uint32_t seed : {1u, 2u, 3u}) RunCase(false, seed);
}

TEST(SegmentWriter, HostileTermsFallBackToTextOrder) {
  for (uint32_t seed : {4u, 5u, 6u}) RunCase(true, seed);
}

// A pair whose text would pass the longest term allowed is not indexed, as
// a text term that long is not.
TEST(SegmentWriter, OverlongPairIsDropped) {
  testing::TempDir dir;
  SegmentWriter w;
  const uint32_t local = w.AddDoc(1, 1, 0, 2);
  const uint32_t a = w.AddTerm(local, std::string(600, 'a'));
  const uint32_t b = w.AddTerm(local, std::string(600, 'b'));
  const uint32_t c = w.AddTerm(local, "c");
  w.AddPair(local, a, b);
  w.AddPair(local, b, c);
  ASSERT_TRUE(w.Write(dir / "seg").ok());
  auto seg = Segment::Open(dir / "seg");
  ASSERT_TRUE(seg.ok());
  EXPECT_EQ((*seg)->n_terms(), 4u);
  EXPECT_FALSE((*seg)->Find(std::string(600, 'a') + " " + std::string(600, 'b')).has_value());
  EXPECT_TRUE((*seg)->Find(std::string(600, 'b') + " c").has_value());
}

}  // namespace
}  // namespace savoir

namespace savoir {
namespace {

// The index build's fast path (AddChunkTo: a word table per writer, pairs
// as word ids) must index exactly what the plain analyzer gives: Analyze's
// terms, BigramTerm texts of adjacent terms, accent-less variants — the same
// segment byte for byte, in English, French (accents, elisions, stop words)
// and a language without a stemmer, several writers in a row on one thread.
TEST(SegmentWriter, IndexBuildPathEqualsAnalyzerPath) {
  testing::TempDir dir;
  std::vector<std::pair<DocumentRecord, std::vector<ChunkRecord>>> docs;
  const std::string long_word(70, 'x');
  const std::vector<std::vector<std::string>> texts = {
      {"en", "The Quick Brown Foxes", "The quick brown foxes jumped over 3 lazy dogs; the dogs' owners ran. "
                                      "Running runners run 2024 times: p53 and BRCA1 mutations, naïve café."},
      {"fr", "L'école des élèves", "Les élèves de l'école étaient payés. Ils ont payé les écoles, qu'ils "
                                  "aiment; à l'été où nous étions déjà là, ÉCOLE et ecole."},
      {"en", "", long_word + " short words and a supercalifragilisticexpialidociousword"},
      {"xx", "Ωμέγα Straße", "Ωμέγα straße STRASSE œuvre Æsir, 東京 タワー — numbers 3.14 and 1e9."},
      {"fr", "Titre", "Bonjour, est-ce que vous avez vu les résultats? Oui: résultat, resultats."}};
  int64_t chunk_id = 1;
  for (int rep = 0; rep < 3; ++rep) {
    for (size_t i = 0; i < texts.size(); ++i) {
      DocumentRecord d;
      d.id = static_cast<int64_t>(docs.size() + 1);
      d.source_id = 1;
      d.title = texts[i][1];
      d.content = texts[i][2];
      d.acl = {"public"};
      ChunkRecord c;
      c.id = chunk_id++;
      c.document_id = d.id;
      c.begin = 0;
      c.end = static_cast<uint32_t>(d.content.size());
      c.language = texts[i][0];
      c.heading_path = rep == 1 ? "Section > Sub-section" : "";
      docs.push_back({d, {c}});
    }
  }
  // Two batches: the second writer must not see the first one's word ids.
  for (int batch = 0; batch < 2; ++batch) {
    SegmentWriter fast, plain;
    for (const auto& [doc, chunks] : docs) {
      for (const auto& chunk : chunks) {
        AddChunkTo(fast, doc, chunk);
        std::vector<Token> toks;
        std::vector<std::string> variants;
        Analyzer::Analyze(doc.title, chunk.language, &toks, &variants);
        Analyzer::Analyze(doc.title, chunk.language, &toks, &variants);
        if (!chunk.heading_path.empty()) Analyzer::Analyze(chunk.heading_path, chunk.language, &toks, &variants);
        Analyzer::Analyze(std::string_view(doc.content).substr(chunk.begin, chunk.end - chunk.begin), chunk.language,
                          &toks, &variants);
        const uint32_t local = plain.AddDoc(chunk.id, doc.id, doc.updated_at, static_cast<uint32_t>(toks.size()));
        for (const auto& t : toks) plain.AddTerm(local, t.term);
        for (size_t i = 1; i < toks.size(); ++i) plain.AddTerm(local, BigramTerm(toks[i - 1].term, toks[i].term));
        for (const auto& v : variants) plain.AddTerm(local, v);
        for (const auto& e : doc.acl) plain.AddFacet("acl:" + e, local);
        plain.AddFacet("src:" + std::to_string(doc.source_id), local);
        plain.AddFacet("lang:" + chunk.language, local);
      }
    }
    const std::string a = dir / ("fast" + std::to_string(batch)), b = dir / ("plain" + std::to_string(batch));
    ASSERT_TRUE(fast.Write(a).ok());
    ASSERT_TRUE(plain.Write(b).ok());
    const std::string fa = ReadAll(a), fb = ReadAll(b);
    EXPECT_GT(fa.size(), 500u);
    EXPECT_TRUE(fa == fb) << "sizes " << fa.size() << " vs " << fb.size();
    auto seg = Segment::Open(a);
    ASSERT_TRUE(seg.ok());
    EXPECT_TRUE((*seg)->Find("ecol").has_value());        // école, stemmed and folded
    EXPECT_TRUE((*seg)->Find("quick brown").has_value());  // a pair
    EXPECT_FALSE((*seg)->Find("the").has_value());         // a stop word
  }
}

}  // namespace
}  // namespace savoir
