// TEMPORARY — see interim_answerer.h.
#include "server/interim_answerer.h"

#include <set>

#include "index/analyzer.h"

namespace savoir {
namespace {

class InterimAnswerer final : public AnswerGenerator {
 public:
  std::string name() const override { return "interim-extractive"; }

  Result<Answer> Generate(const AnswerRequest& req, const DeltaSink& sink) override {
    Answer a;
    a.mode = "extractive";
    std::string lang = req.language.empty() ? "en" : req.language;
    std::set<std::string> q;
    for (auto& t : Analyzer::Terms(req.question, lang)) q.insert(t);
    for (const auto& p : req.passages) {
      if (p.n > 3) break;
      // Sentences end at ". ", "? ", "! " or a line break.
      size_t best_b = 0, best_e = 0;
      int best = -1;
      for (size_t b = 0; b < p.text.size();) {
        size_t e = p.text.find_first_of(".?!\n", b);
        e = e == std::string::npos ? p.text.size() : e + 1;
        int score = 0;
        for (auto& t : Analyzer::Terms(std::string_view(p.text).substr(b, e - b), lang)) score += q.count(t);
        if (score > best && e - b > 20) best = score, best_b = b, best_e = e;
        b = e;
      }
      if (best <= 0) continue;
      std::string s = p.text.substr(best_b, best_e - best_b);
      while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '#')) s.erase(0, 1), ++best_b;
      while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
      std::string delta = (a.text.empty() ? "" : " ") + s + " [" + std::to_string(p.n) + "]";
      a.text += delta;
      a.citations.push_back(Citation{p.n, p.doc_id, p.chunk_id, p.title, p.begin + static_cast<uint32_t>(best_b),
                                     p.begin + static_cast<uint32_t>(best_b + s.size())});
      if (!sink(delta)) return a;
    }
    if (a.text.empty()) {
      a.text = lang == "fr" ? "Je n’ai trouvé aucun passage pertinent." : "I found no relevant passage.";
      a.notice = "no-passage";
      sink(a.text);
    }
    return a;
  }
};

}  // namespace

std::unique_ptr<AnswerGenerator> MakeInterimAnswerer() { return std::make_unique<InterimAnswerer>(); }

}  // namespace savoir
