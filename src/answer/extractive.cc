#include "answer/extractive.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "answer/sentences.h"
#include "common/utf8.h"
#include "index/analyzer.h"

namespace savoir {
namespace {

// Question words the index keeps (they are rare in documents, so they
// would count as precious matches) but that never carry the answer.
const std::unordered_set<std::string>& QuestionFillers(const std::string& language) {
  static const auto make = [](const char* words, const char* lang) {
    auto terms = Analyzer::Terms(words, lang);
    return std::unordered_set<std::string>(terms.begin(), terms.end());
  };
  static const std::unordered_set<std::string> en =
      make("what which who whom whose when where why how do does did many much", "en");
  static const std::unordered_set<std::string> fr = make("qu'est-ce quelqu'un", "fr");
  return language == "fr" ? fr : en;
}

// What kind of answer the question asks for, from its first words.
enum class AnswerType { kAny, kNumber, kDate, kName };

AnswerType QuestionAnswerType(std::string_view question) {
  std::string q = Analyzer::Fold(question.substr(0, 64));
  for (char& c : q)
    if (c == '\'' || c == '-') c = ' ';
  auto starts = [&](std::initializer_list<const char*> prefixes) {
    for (const char* p : prefixes)
      if (q.rfind(p, 0) == 0 || q.find(std::string(" ") + p) != std::string::npos) return true;
    return false;
  };
  if (starts({"combien", "how many", "how much", "quel nombre", "quel pourcentage", "what percentage"}))
    return AnswerType::kNumber;
  if (starts({"quand", "en quelle annee", "quelle annee", "a quelle date", "quelle date", "depuis quand",
              "when", "what year", "which year", "in what year", "quel siecle", "a quelle epoque"}))
    return AnswerType::kDate;
  // "qui" anywhere else is mostly a relative pronoun ("l'homme qui a...").
  for (const char* p : {"qui ", "par qui ", "avec qui ", "a qui ", "pour qui ", "who ", "whom "})
    if (q.rfind(p, 0) == 0) return AnswerType::kName;
  return AnswerType::kAny;
}

bool IsYear(std::string_view w) {
  if (w.size() != 4) return false;
  for (char c : w)
    if (c < '0' || c > '9') return false;
  return w[0] == '1' || (w[0] == '2' && w[1] == '0');
}

struct SentenceInfo {
  SentenceSpan span;
  size_t first_token = 0, last_token = 0;  // [first, last) in the passage's tokens
  std::vector<std::pair<uint32_t, int>> hits;  // (token position, query term id)
  size_t words = 0;
  bool heading = false;
};

struct PassageInfo {
  std::string_view text;
  std::vector<Token> tokens;
  std::vector<SentenceInfo> sentences;
};

struct Candidate {
  size_t passage = 0, sentence = 0;
  double score = 0;
};

size_t CountWords(std::string_view s) {
  size_t n = 0;
  bool in_word = false;
  for (char c : s) {
    bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (!space && !in_word) ++n;
    in_word = !space;
  }
  return n;
}

// A line with no sentence punctuation and few words ("Histoire",
// "Conditions d'accès") introduces what follows rather than saying it.
bool IsHeadingLike(std::string_view s, size_t words) {
  if (words == 0 || words > 12 || s.empty()) return false;
  char last = s.back();
  return last != '.' && last != '!' && last != '?' && last != ';' && last != ',' &&
         !(s.size() >= 3 && s.substr(s.size() - 3) == "\xE2\x80\xA6");
}

// Shortest token window holding every distinct term of `hits`, as
// (distinct terms) / (window length): 1 when they are adjacent.
double Proximity(const std::vector<std::pair<uint32_t, int>>& hits, size_t distinct) {
  if (distinct < 2) return 0;
  std::unordered_map<int, int> in_window;
  size_t have = 0, best = SIZE_MAX, lo = 0;
  for (size_t hi = 0; hi < hits.size(); ++hi) {
    if (in_window[hits[hi].second]++ == 0) ++have;
    while (have == distinct) {
      best = std::min<size_t>(best, hits[hi].first - hits[lo].first + 1);
      if (--in_window[hits[lo].second] == 0) --have;
      ++lo;
    }
  }
  return best == SIZE_MAX ? 0 : static_cast<double>(distinct) / static_cast<double>(best);
}

// Answer text for one sentence: runs of whitespace (line breaks of wrapped
// lines) become one space; invalid UTF-8 is replaced.
std::string CleanSentence(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return SanitizeUtf8(out);
}

class ExtractiveAnswerer : public AnswerGenerator {
 public:
  explicit ExtractiveAnswerer(ExtractiveOptions options) : opt_(options) {}
  std::string name() const override { return "extractive"; }
  Result<Answer> Generate(const AnswerRequest& request, const DeltaSink& sink) override;

 private:
  ExtractiveOptions opt_;
};

Result<Answer> ExtractiveAnswerer::Generate(const AnswerRequest& request, const DeltaSink& sink) {
  Answer answer;
  answer.mode = "extractive";
  std::string qlang = request.language;
  if (qlang.empty()) qlang = DetectLanguageAmong(request.question, {"fr", "en"});
  if (qlang.empty()) qlang = "en";

  // Query terms per analysis language (passages may differ in language);
  // ids are shared so that idf counts a term once whatever the language.
  std::unordered_map<std::string, int> term_id;
  std::unordered_map<std::string, std::unordered_map<std::string, int>> query_by_lang;
  auto query_terms = [&](const std::string& lang) -> const std::unordered_map<std::string, int>& {
    auto it = query_by_lang.find(lang);
    if (it != query_by_lang.end()) return it->second;
    auto& m = query_by_lang[lang];
    const auto& fillers = QuestionFillers(lang);
    for (auto& t : Analyzer::Terms(request.question, lang)) {
      if (fillers.count(t)) continue;
      auto [id, _] = term_id.emplace(t, static_cast<int>(term_id.size()));
      m.emplace(t, id->second);
    }
    return m;
  };

  const size_t n_passages = std::min(request.passages.size(), opt_.max_passages);
  std::vector<PassageInfo> passages(n_passages);
  size_t total_sentences = 0;
  for (size_t p = 0; p < n_passages; ++p) {
    const Passage& src = request.passages[p];
    PassageInfo& info = passages[p];
    info.text = TruncateUtf8(src.text, opt_.max_passage_bytes);
    const std::string& lang = src.language.empty() ? qlang : src.language;
    const auto& terms = query_terms(lang);
    Analyzer::Analyze(info.text, lang, &info.tokens);
    size_t t = 0;
    for (const SentenceSpan& span : SplitSentences(info.text, opt_.max_sentence_bytes)) {
      SentenceInfo s;
      s.span = span;
      while (t < info.tokens.size() && info.tokens[t].begin < span.begin) ++t;
      s.first_token = t;
      while (t < info.tokens.size() && info.tokens[t].end <= span.end) {
        auto it = terms.find(info.tokens[t].term);
        if (it != terms.end()) s.hits.emplace_back(static_cast<uint32_t>(t), it->second);
        ++t;
      }
      s.last_token = t;
      std::string_view st = info.text.substr(span.begin, span.end - span.begin);
      s.words = CountWords(st);
      s.heading = IsHeadingLike(st, s.words);
      info.sentences.push_back(std::move(s));
    }
    total_sentences += info.sentences.size();
  }

  // Sentence frequency of each query term across all given passages: a term
  // found in few sentences discriminates, one found everywhere (the topic)
  // does not.
  std::vector<int> df(term_id.size(), 0);
  for (const auto& p : passages)
    for (const auto& s : p.sentences) {
      std::unordered_set<int> seen;
      for (auto [_, id] : s.hits)
        if (seen.insert(id).second) ++df[id];
    }
  std::vector<double> idf(df.size(), 0);
  double idf_total = 0;
  for (size_t i = 0; i < df.size(); ++i) {
    if (df[i] == 0) continue;  // absent everywhere: cannot help rank sentences
    idf[i] = std::log(1.0 + (total_sentences + 1.0) / (df[i] + 0.5));
    idf_total += idf[i];
  }

  const AnswerType want = QuestionAnswerType(request.question);
  // Whether sentence `s` of passage `p` holds a word of the wanted type that
  // the question does not already contain.
  auto has_answer_type = [&](const PassageInfo& p, const SentenceInfo& s) {
    if (want == AnswerType::kAny) return false;
    std::unordered_set<uint32_t> hit;
    for (auto [pos, _] : s.hits) hit.insert(pos);
    for (size_t t = s.first_token; t < s.last_token; ++t) {
      if (hit.count(static_cast<uint32_t>(t))) continue;
      const Token& tok = p.tokens[t];
      std::string_view surface = p.text.substr(tok.begin, tok.end - tok.begin);
      unsigned char c0 = static_cast<unsigned char>(surface[0]);
      bool digit = c0 >= '0' && c0 <= '9';
      if (want == AnswerType::kNumber && digit) return true;
      if (want == AnswerType::kDate && (IsYear(surface) || tok.term == "siecl" || tok.term == "centuri")) return true;
      if (want == AnswerType::kName && t > s.first_token && c0 >= 'A' && c0 <= 'Z') return true;
    }
    return false;
  };

  std::vector<Candidate> candidates;
  if (idf_total > 0) {
    for (size_t p = 0; p < passages.size(); ++p) {
      const auto& sents = passages[p].sentences;
      for (size_t j = 0; j < sents.size(); ++j) {
        const SentenceInfo& s = sents[j];
        bool lends = s.heading && j + 1 < sents.size();
        if (lends) continue;  // its matches go to the next sentence
        std::unordered_map<int, double> matched;
        for (auto [_, id] : s.hits) matched[id] = idf[id];
        if (matched.empty() && !(j > 0 && sents[j - 1].heading)) continue;
        if (j > 0) {
          double w = sents[j - 1].heading ? opt_.heading_weight : opt_.context_weight;
          for (auto [_, id] : sents[j - 1].hits)
            if (!matched.count(id)) matched[id] = idf[id] * w;
        }
        if (matched.empty()) continue;
        double coverage = 0;
        for (auto [_, w] : matched) coverage += w;
        coverage /= idf_total;
        size_t distinct = 0;
        {
          std::unordered_set<int> d;
          for (auto [_, id] : s.hits) d.insert(id);
          distinct = d.size();
        }
        double prox = Proximity(s.hits, distinct);
        double score = coverage * (1 + opt_.proximity_weight * prox) /
                       (1 + opt_.rank_decay * static_cast<double>(p)) /
                       (1 + opt_.position_decay * static_cast<double>(j));
        if (opt_.length_norm > 0)
          score /= 1 + opt_.length_norm * (static_cast<double>(s.words) / 25.0 - 1);
        if (opt_.answer_type_weight > 0 && has_answer_type(passages[p], s)) score *= 1 + opt_.answer_type_weight;
        candidates.push_back({p, j, score});
      }
    }
  }

  if (candidates.empty()) {
    answer.text = NoAnswerText(qlang);
    if (sink) sink(answer.text);
    return answer;
  }

  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
  auto term_set = [&](const Candidate& c) {
    const PassageInfo& p = passages[c.passage];
    const SentenceInfo& s = p.sentences[c.sentence];
    std::unordered_set<std::string_view> set;
    for (size_t t = s.first_token; t < s.last_token; ++t) set.insert(p.tokens[t].term);
    return set;
  };
  std::vector<Candidate> picked;
  std::vector<std::unordered_set<std::string_view>> picked_terms;
  size_t words = 0;
  const double floor = candidates.front().score * opt_.min_relative_score;
  for (const Candidate& c : candidates) {
    if (picked.size() >= opt_.max_sentences || c.score < floor) break;
    size_t w = passages[c.passage].sentences[c.sentence].words;
    if (!picked.empty() && words + w > opt_.max_words) continue;
    auto terms = term_set(c);
    bool repeat = false;
    for (const auto& other : picked_terms) {
      size_t common = 0;
      for (const auto& t : terms) common += other.count(t);
      size_t uni = terms.size() + other.size() - common;
      if (uni == 0 || static_cast<double>(common) / uni > opt_.max_duplicate_overlap) repeat = true;
    }
    if (repeat) continue;
    picked.push_back(c);
    picked_terms.push_back(std::move(terms));
    words += w;
  }
  // Read in document order: best passages first, sentences as written.
  std::sort(picked.begin(), picked.end(), [](const Candidate& a, const Candidate& b) {
    return a.passage != b.passage ? a.passage < b.passage : a.sentence < b.sentence;
  });

  for (const Candidate& c : picked) {
    const Passage& src = request.passages[c.passage];
    const SentenceSpan& span = passages[c.passage].sentences[c.sentence].span;
    std::string delta = answer.text.empty() ? "" : " ";
    delta += CleanSentence(passages[c.passage].text.substr(span.begin, span.end - span.begin));
    delta += " [" + std::to_string(src.n) + "]";
    Citation cite;
    cite.n = src.n;
    cite.doc_id = src.doc_id;
    cite.chunk_id = src.chunk_id;
    cite.title = src.title;
    cite.start = src.begin + span.begin;
    cite.end = src.begin + span.end;
    answer.text += delta;
    answer.citations.push_back(std::move(cite));
    if (sink && !sink(delta)) break;  // the client went away
  }
  return answer;
}

}  // namespace

std::string NoAnswerText(std::string_view language) {
  if (language == "fr") return "Aucune réponse trouvée dans les sources pour cette question.";
  return "No answer found in the sources for this question.";
}

std::unique_ptr<AnswerGenerator> MakeExtractiveAnswerer(ExtractiveOptions options) {
  return std::make_unique<ExtractiveAnswerer>(options);
}

}  // namespace savoir
