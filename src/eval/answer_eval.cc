#include "eval/answer_eval.h"

#include <chrono>

#include "eval/metrics.h"
#include "index/analyzer.h"

namespace savoir {

std::string NormalizeForMatch(std::string_view text) {
  std::string folded = Analyzer::Fold(text);
  std::string out;
  out.reserve(folded.size());
  bool space = false;
  for (size_t i = 0; i < folded.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(folded[i]);
    size_t skip = 0;
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') skip = 1;
    else if (folded.compare(i, 2, "\xC2\xA0") == 0) skip = 2;                // U+00A0
    else if (folded.compare(i, 3, "\xE2\x80\xAF") == 0) skip = 3;            // U+202F
    else if (folded.compare(i, 3, "\xE2\x80\x89") == 0) skip = 3;            // U+2009
    if (skip) {
      space = true;
      i += skip - 1;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    if (folded.compare(i, 3, "\xE2\x80\x99") == 0) {  // ’ -> '
      out.push_back('\'');
      i += 2;
      continue;
    }
    out.push_back(folded[i]);
  }
  return out;
}

bool ContainsAnswer(const std::string& normalized, const std::vector<std::string>& answers) {
  for (const auto& a : answers) {
    std::string na = NormalizeForMatch(a);
    if (!na.empty() && normalized.find(na) != std::string::npos) return true;
  }
  return false;
}

Result<std::vector<Passage>> RetrievePassages(const std::string& question, const Searcher& searcher,
                                              Store& store, size_t k) {
  SearchRequest req;
  req.query = question;
  req.principal.all_access = true;
  req.k = k;
  SAVOIR_ASSIGN_OR_RETURN(auto hits, searcher.Search(req));
  std::vector<Passage> passages;
  for (const auto& h : hits) {
    auto rec = store.GetPassage(h.chunk_id);
    if (!rec.ok()) continue;  // deleted since the search
    Passage p;
    p.n = static_cast<int>(passages.size()) + 1;
    p.doc_id = h.doc_id;
    p.chunk_id = h.chunk_id;
    p.title = rec->doc.title;
    p.url = rec->doc.url;
    p.heading_path = rec->chunk.heading_path;
    p.language = rec->chunk.language;
    p.text = std::move(rec->text);
    p.begin = rec->chunk.begin;
    passages.push_back(std::move(p));
  }
  return passages;
}

Result<AnswerEvalFigures> RunAnswerEval(const std::vector<BeirQuery>& queries, const Searcher& searcher,
                                        Store& store, AnswerGenerator& generator, size_t k) {
  AnswerEvalFigures fig;
  std::vector<double> latencies;
  size_t in_extract = 0, in_top1 = 0, in_any = 0, words = 0;
  for (const auto& q : queries) {
    if (q.answers.empty()) continue;
    ++fig.questions;
    SAVOIR_ASSIGN_OR_RETURN(auto passages, RetrievePassages(q.text, searcher, store, k));
    if (!passages.empty() && ContainsAnswer(NormalizeForMatch(passages[0].text), q.answers)) ++in_top1;
    for (const auto& p : passages)
      if (ContainsAnswer(NormalizeForMatch(p.text), q.answers)) {
        ++in_any;
        break;
      }
    AnswerRequest req;
    req.question = q.text;
    req.passages = std::move(passages);
    auto t = std::chrono::steady_clock::now();
    SAVOIR_ASSIGN_OR_RETURN(Answer answer, generator.Generate(req, nullptr));
    latencies.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count());
    if (!answer.citations.empty() && ContainsAnswer(NormalizeForMatch(answer.text), q.answers)) ++in_extract;
    for (size_t i = 0, in_word = 0; i < answer.text.size(); ++i) {
      bool sp = answer.text[i] == ' ';
      if (!sp && !in_word) ++words;
      in_word = !sp;
    }
  }
  if (fig.questions == 0) return fig;
  double n = static_cast<double>(fig.questions);
  fig.in_extract = in_extract / n;
  fig.in_top1_passage = in_top1 / n;
  fig.in_top_passages = in_any / n;
  fig.mean_words = words / n;
  fig.p50_ms = Percentile(latencies, 50);
  fig.p99_ms = Percentile(latencies, 99);
  return fig;
}

}  // namespace savoir
