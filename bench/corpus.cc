#include "corpus.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <sstream>

#include "eval/beir.h"

namespace savoir::bench {
namespace {
using json = nlohmann::json;

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// Sentences: cut after '.', '?' or '!' followed by a space; keep those of 4+ words.
std::vector<std::string> Sentences(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  auto push = [&](size_t end) {
    std::string s = text.substr(start, end - start);
    size_t words = 0;
    bool in = false;
    for (char ch : s) {
      bool sp = ch == ' ' || ch == '\n' || ch == '\t';
      if (!sp && !in) ++words;
      in = !sp;
    }
    if (words >= 4) out.push_back(std::move(s));
  };
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    char ch = text[i];
    if ((ch == '.' || ch == '?' || ch == '!') && text[i + 1] == ' ') {
      push(i + 1);
      start = i + 2;
      ++i;
    }
  }
  if (start < text.size()) push(text.size());
  return out;
}

uint64_t Mix(uint64_t x) {
  Rng r(x);
  return r.Next();
}

}  // namespace

void AssignAcls(Corpus* c) {
  for (size_t i = 0; i < c->docs.size(); ++i) {
    uint64_t h = Mix(i * 0x2545F4914F6CDD1DULL + 7) % 1000;
    auto& acl = c->docs[i].acl;
    acl = {"group:g100"};
    if (h < 100) acl.push_back("group:g10");
    if (h < 10) acl.push_back("group:g1");
    if (h < 1) acl.push_back("group:g01");
  }
}

void Finish(Corpus* c) {
  c->raw_bytes = 0;
  for (const auto& d : c->docs) c->raw_bytes += d.title.size() + d.text.size();
  AssignAcls(c);
}

Corpus LoadBeir(const std::string& dir, const std::string& name, const std::string& lang) {
  Corpus c;
  c.name = name;
  std::ifstream in(dir + "/corpus.jsonl");
  if (!in) {
    std::cerr << "cannot open " << dir << "/corpus.jsonl\n";
    std::exit(2);
  }
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    json j = json::parse(line);
    c.docs.push_back(BenchDoc{Str(j, "_id"), Str(j, "title"), Str(j, "text"), lang, {}});
  }
  auto ds = LoadBeirQueries(dir, "test");
  if (!ds.ok()) {
    std::cerr << ds.status().ToString() << "\n";
    std::exit(2);
  }
  QuerySet qs;
  qs.name = "test";
  for (auto& q : ds->queries) qs.queries.push_back(BenchQuery{q.id, q.text, lang});
  qs.qrels = ds->qrels;
  c.sets.push_back(std::move(qs));
  Finish(&c);
  return c;
}

Corpus GenerateLarge(const std::vector<const Corpus*>& sources, size_t n_docs, size_t n_queries,
                     uint64_t seed) {
  struct Pool {
    std::string lang;
    std::vector<std::string> sentences, titles;
    const QuerySet* queries;
    size_t weight;
  };
  std::vector<Pool> pools;
  size_t total = 0;
  for (const Corpus* src : sources) {
    Pool p{src->docs.empty() ? "en" : src->docs[0].lang, {}, {}, &src->sets[0], src->docs.size()};
    for (const auto& d : src->docs) {
      for (auto& s : Sentences(d.text)) p.sentences.push_back(std::move(s));
      if (!d.title.empty()) p.titles.push_back(d.title);
    }
    total += p.weight;
    pools.push_back(std::move(p));
  }
  auto pick_pool = [&](Rng& rng) -> const Pool& {
    size_t r = rng.Below(total);
    for (const auto& p : pools) {
      if (r < p.weight) return p;
      r -= p.weight;
    }
    return pools.back();
  };
  Corpus c;
  c.name = "large" + std::to_string(n_docs);
  Rng rng(seed);
  c.docs.reserve(n_docs);
  for (size_t i = 0; i < n_docs; ++i) {
    const Pool& p = pick_pool(rng);
    BenchDoc d;
    d.id = "g" + std::to_string(i);
    d.lang = p.lang;
    d.title = p.titles[rng.Below(p.titles.size())];
    size_t n = 3 + rng.Below(6);
    for (size_t s = 0; s < n; ++s) {
      if (s) d.text += ' ';
      d.text += p.sentences[rng.Below(p.sentences.size())];
    }
    c.docs.push_back(std::move(d));
  }
  QuerySet qs;
  qs.name = "sampled";
  for (size_t i = 0; i < n_queries; ++i) {
    const Pool& p = pick_pool(rng);
    const auto& q = p.queries->queries[rng.Below(p.queries->queries.size())];
    qs.queries.push_back(BenchQuery{"q" + std::to_string(i), q.text, p.lang});
  }
  c.sets.push_back(std::move(qs));
  Finish(&c);
  return c;
}

QuerySet LongQueries(const Corpus& base, uint64_t seed) {
  QuerySet out;
  out.name = "long";
  Rng rng(seed);
  const QuerySet& src = base.sets[0];
  for (const auto& q : src.queries) {
    auto qr = src.qrels.find(q.id);
    for (int attempt = 0; attempt < 1000; ++attempt) {
      const BenchDoc& d = base.docs[rng.Below(base.docs.size())];
      if (qr != src.qrels.end() && qr->second.count(d.id)) continue;
      std::istringstream words(d.text);
      std::vector<std::string> w;
      for (std::string s; words >> s;) w.push_back(s);
      if (w.size() < 100) continue;
      size_t n = std::min(w.size(), 100 + rng.Below(101));
      std::string text;
      for (size_t i = 0; i < n; ++i) text += (i ? " " : "") + w[i];
      out.queries.push_back(BenchQuery{q.id, text, q.lang});
      break;
    }
  }
  return out;
}

}  // namespace savoir::bench
