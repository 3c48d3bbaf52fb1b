#include "answer/model_answerer.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "answer/extractive.h"
#include "common/utf8.h"

namespace savoir {
namespace {
using Clock = std::chrono::steady_clock;

constexpr int kDefaultContext = 4096;
constexpr int kMessageOverhead = 8;   // role markers of a chat template, per message
constexpr size_t kMaxMarkerBytes = 40;  // "[12, 13, 14]"; longer is not a marker

double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

enum class Marker { kComplete, kIncomplete, kNot };

// Parses "[n]" / "[n, m, ...]" at s[0] == '['.
Marker ParseMarker(std::string_view s, size_t* end, std::vector<int>* numbers) {
  numbers->clear();
  size_t i = 1;
  while (true) {
    while (i < s.size() && s[i] == ' ') ++i;
    if (i == s.size()) return Marker::kIncomplete;
    size_t d = i;
    while (i < s.size() && IsDigit(s[i]) && i - d < 4) ++i;
    if (i == d) return Marker::kNot;
    if (i == s.size()) return Marker::kIncomplete;
    if (IsDigit(s[i])) return Marker::kNot;  // 5 digits or more
    numbers->push_back(std::stoi(std::string(s.substr(d, i - d))));
    while (i < s.size() && s[i] == ' ') ++i;
    if (i == s.size()) return Marker::kIncomplete;
    if (s[i] == ']') {
      *end = i + 1;
      return Marker::kComplete;
    }
    if (s[i] != ',') return Marker::kNot;
    ++i;
  }
}

std::string LanguageName(std::string_view language) {
  if (language == "fr") return "French";
  if (language == "en") return "English";
  return "";
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && IsSpace(s[b])) ++b;
  while (e > b && IsSpace(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

// The longest prefix of `text` whose tokens fit `budget`.
std::string_view FitText(const ChatModel& model, std::string_view text, int budget) {
  if (budget <= 0) return {};
  if (model.CountTokens(text) <= budget) return text;
  size_t lo = 0, hi = text.size();
  while (lo < hi) {  // largest byte length that fits
    size_t mid = lo + (hi - lo + 1) / 2;
    if (model.CountTokens(TruncateUtf8(text, mid)) <= budget) lo = mid;
    else hi = mid - 1;
  }
  return TruncateUtf8(text, lo);
}

std::string PassageBlock(const Passage& p, std::string_view text) {
  std::string b = "[" + std::to_string(p.n) + "] " + (p.title.empty() ? std::string("(untitled)") : p.title);
  if (!p.heading_path.empty() && p.heading_path != p.title) b += " › " + p.heading_path;
  b += "\n";
  b.append(text);
  b += "\n\n";
  return b;
}

class ModelAnswerer final : public AnswerGenerator {
 public:
  ModelAnswerer(std::shared_ptr<ChatModel> model, std::unique_ptr<AnswerGenerator> fallback,
                ModelAnswererOptions options)
      : model_(std::move(model)), fallback_(std::move(fallback)), opt_(std::move(options)) {}

  std::string name() const override { return "model:" + model_->name(); }

  Result<Answer> Generate(const AnswerRequest& request, const DeltaSink& sink) override {
    if (request.passages.empty()) {
      // Nothing to answer from: no model call, the usual "no answer" text.
      Answer a;
      a.mode = "model";
      a.model = model_->name();
      a.text = NoAnswerText(request.language);
      sink(a.text);
      return a;
    }
    AnswerPrompt prompt = BuildAnswerPrompt(*model_, request, opt_);
    std::set<int> valid;
    for (const auto& p : prompt.passages) valid.insert(p.n);
    CitationStream citations(valid);
    std::string text;
    bool client_gone = false;
    auto emit = [&](const std::string& out) {
      if (out.empty() || client_gone) return !client_gone;
      text += out;
      if (!sink(out)) client_gone = true;
      return !client_gone;
    };
    ChatOptions chat;
    chat.max_tokens = prompt.max_tokens;
    chat.temperature = opt_.temperature;
    auto t0 = Clock::now();
    Result<ChatUsage> usage = model_->Chat(prompt.messages, chat, [&](std::string_view delta) {
      return emit(citations.Push(delta));
    });
    const double elapsed = MsSince(t0);
    emit(citations.Finish());
    // Nothing shown yet (an error before the first token, or only blanks):
    // the extractive answer stands in.
    if (Trim(text).empty() && !client_gone)
      return Fallback(request, sink, usage.ok() ? "the model returned an empty answer" : usage.status().message(),
                      elapsed, usage.ok() ? &*usage : nullptr);

    Answer a;
    a.mode = "model";
    a.text = std::move(text);
    a.model = model_->name();
    a.usage.model = model_->name();
    if (usage.ok()) {
      a.usage.prompt_tokens = usage->prompt_tokens;
      a.usage.completion_tokens = usage->completion_tokens;
      a.usage.latency_ms = usage->latency_ms;
      a.usage.first_token_ms = usage->first_token_ms;
      if (!usage->model.empty()) a.usage.model = usage->model;
    } else {
      // Failed mid-answer: keep what was streamed and say it is cut.
      a.usage.error = usage.status().message();
      a.usage.latency_ms = elapsed;
      a.usage.prompt_tokens = prompt.prompt_tokens;
      a.notice = request.language == "fr"
                     ? "Le modèle de langue s'est interrompu avant la fin de la réponse."
                     : "The language model stopped before the end of the answer.";
    }
    std::map<int, const Passage*> by_n;
    for (const auto& p : request.passages) by_n[p.n] = &p;
    for (int n : citations.cited()) {
      auto it = by_n.find(n);
      if (it == by_n.end()) continue;
      const Passage& p = *it->second;
      a.citations.push_back({n, p.doc_id, p.chunk_id, p.title, p.begin,
                             p.begin + static_cast<uint32_t>(p.text.size())});
    }
    return a;
  }

 private:
  Result<Answer> Fallback(const AnswerRequest& request, const DeltaSink& sink, const std::string& why,
                          double elapsed_ms, const ChatUsage* spent) {
    auto a = fallback_->Generate(request, sink);
    if (!a.ok()) return a;
    if (spent) {
      a->usage.prompt_tokens = spent->prompt_tokens;
      a->usage.completion_tokens = spent->completion_tokens;
      a->usage.first_token_ms = spent->first_token_ms;
    }
    a->notice = ModelUnavailableNotice(request.language);
    a->usage.model = model_->name();
    a->usage.error = why;
    a->usage.latency_ms = elapsed_ms;
    return a;
  }

  std::shared_ptr<ChatModel> model_;
  std::unique_ptr<AnswerGenerator> fallback_;
  ModelAnswererOptions opt_;
};

}  // namespace

std::string DefaultAnswerInstructions(std::string_view language) {
  std::string lang = LanguageName(language);
  return "You are Savoir, an assistant that answers employees' questions from their company's documents.\n"
         "Answer only from the numbered passages given with the question; do not use other knowledge.\n"
         "After each statement, cite the passages that support it as [n], for example [1] or [2][3]. "
         "Cite only the numbers of the passages given.\n"
         "If the passages do not contain the answer, say so briefly and do not guess.\n"
         "Answer in " + (lang.empty() ? std::string("the language of the question") : lang) +
         ". Be concise: a few sentences.";
}

std::string ModelUnavailableNotice(std::string_view language) {
  if (language == "fr")
    return "Le modèle de langue est indisponible ; cette réponse est extraite des sources.";
  return "The language model is unavailable; this answer is extracted from the sources.";
}

AnswerPrompt BuildAnswerPrompt(const ChatModel& model, const AnswerRequest& request,
                               const ModelAnswererOptions& options) {
  AnswerPrompt out;
  int ctx = options.context_tokens > 0 ? options.context_tokens : model.context_tokens();
  if (ctx <= 0) ctx = kDefaultContext;
  out.context_tokens = ctx;
  out.max_tokens = std::max(16, std::min(options.max_answer_tokens, ctx / 2));
  const int margin = static_cast<int>(ctx * std::clamp(options.estimate_margin, 0.0, 0.5));

  std::string system = options.instructions.empty() ? DefaultAnswerInstructions(request.language)
                                                    : options.instructions;
  const std::string head = "Passages:\n\n";
  const std::string question = "Question: " + request.question;
  int avail = ctx - margin - out.max_tokens - model.CountTokens(system) - model.CountTokens(head) -
              model.CountTokens(question) - 2 * kMessageOverhead;

  // History: the newest turns first, within a quarter of what is left.
  std::vector<ChatMessage> history;
  int history_budget = std::max(0, avail / 4);
  for (auto it = request.history.rbegin(); it != request.history.rend(); ++it) {
    if (history.size() >= options.max_history_turns) break;
    if (it->content.empty() || (it->role != "user" && it->role != "assistant")) continue;
    std::string content(TruncateUtf8(it->content, options.max_turn_bytes));
    int cost = model.CountTokens(content) + kMessageOverhead;
    if (cost > history_budget) break;
    history_budget -= cost;
    avail -= cost;
    history.push_back({it->role, std::move(content)});
  }
  std::reverse(history.begin(), history.end());
  // A conversation must not start with the assistant's turn.
  while (!history.empty() && history.front().role != "user") {
    avail += model.CountTokens(history.front().content) + kMessageOverhead;
    history.erase(history.begin());
  }
  out.history_turns = history.size();

  // Passages in rank order; the first that does not fit ends the list (the
  // lower-ranked ones are dropped), cut to fit when it is the only one or
  // when enough room is left.
  std::string blocks;
  for (const auto& p : request.passages) {
    std::string block = PassageBlock(p, p.text);
    int cost = model.CountTokens(block);
    if (cost <= avail) {
      avail -= cost;
      blocks += block;
      out.passages.push_back(p);
      continue;
    }
    if (out.passages.empty() || avail >= options.min_truncated_passage_tokens) {
      int frame = model.CountTokens(PassageBlock(p, ""));
      std::string_view cut = FitText(model, p.text, avail - frame);
      if (!Trim(cut).empty()) {
        blocks += PassageBlock(p, cut);
        Passage given = p;
        given.text = std::string(cut);
        out.passages.push_back(std::move(given));
      }
    }
    break;
  }

  out.messages.push_back({"system", system});
  for (auto& m : history) out.messages.push_back(std::move(m));
  out.messages.push_back({"user", head + blocks + question});
  out.prompt_tokens = 0;
  for (const auto& m : out.messages) out.prompt_tokens += model.CountTokens(m.content) + kMessageOverhead;
  return out;
}

std::string CitationStream::Push(std::string_view delta) {
  pending_.append(delta);
  std::string out;
  std::vector<int> numbers;
  size_t i = 0;
  while (i < pending_.size()) {
    char c = pending_[i];
    if (IsSpace(c)) {
      space_ += c;
      ++i;
      continue;
    }
    if (c == '[') {
      size_t end = 0;
      Marker m = ParseMarker(std::string_view(pending_).substr(i), &end, &numbers);
      if (m == Marker::kIncomplete && pending_.size() - i < kMaxMarkerBytes) {
        pending_.erase(0, i);  // wait for the rest of the marker
        return out;
      }
      if (m == Marker::kComplete) {
        std::string kept;
        std::set<int> seen;
        for (int n : numbers) {
          if (!valid_.count(n)) {
            ++dropped_;
            continue;
          }
          if (!seen.insert(n).second) continue;
          kept += "[" + std::to_string(n) + "]";
          if (std::find(cited_.begin(), cited_.end(), n) == cited_.end()) cited_.push_back(n);
        }
        if (kept.empty()) {
          space_.clear();  // "text [9]." -> "text."
        } else {
          out += space_;
          space_.clear();
          out += kept;
        }
        i += end;
        continue;
      }
    }
    out += space_;
    space_.clear();
    out += c;
    ++i;
  }
  pending_.clear();
  return out;
}

std::string CitationStream::Finish() {
  std::string out;
  if (!pending_.empty()) {  // an unfinished "[1" at the very end is plain text
    out = space_ + pending_;
    pending_.clear();
    while (!out.empty() && IsSpace(out.back())) out.pop_back();
  }
  space_.clear();
  return out;
}

Result<std::string> RewriteFollowUp(ChatModel& model, const std::string& question,
                                    const std::vector<ChatTurn>& history, const ModelAnswererOptions& options,
                                    AnswerUsage* usage) {
  bool any = false;
  for (const auto& t : history) any = any || (!t.content.empty() && (t.role == "user" || t.role == "assistant"));
  if (!any) return question;
  std::string conversation;
  size_t kept = 0;
  std::vector<std::string> lines;
  for (auto it = history.rbegin(); it != history.rend() && kept < 6; ++it) {
    if (it->content.empty() || (it->role != "user" && it->role != "assistant")) continue;
    lines.push_back(std::string(it->role == "user" ? "User: " : "Assistant: ") +
                    std::string(TruncateUtf8(it->content, 600)));
    ++kept;
  }
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) conversation += *it + "\n";
  std::vector<ChatMessage> messages = {
      {"system",
       "Rewrite the user's last question as one stand-alone search query that can be understood without the "
       "conversation: replace pronouns and references with what they refer to. Keep the question's language. "
       "Reply with the query only, on one line, without quotes or explanation."},
      {"user", "Conversation:\n" + conversation + "\nLast question: " + question}};
  ChatOptions chat;
  chat.max_tokens = options.rewrite_max_tokens;
  chat.temperature = 0;
  std::string reply;
  auto t0 = Clock::now();
  auto r = model.Chat(messages, chat, [&](std::string_view d) {
    reply.append(d);
    return reply.size() < 4096;
  });
  if (usage) {
    usage->model = model.name();
    usage->latency_ms = MsSince(t0);
    if (r.ok()) {
      usage->prompt_tokens = r->prompt_tokens;
      usage->completion_tokens = r->completion_tokens;
      usage->first_token_ms = r->first_token_ms;
      usage->latency_ms = r->latency_ms;
      if (!r->model.empty()) usage->model = r->model;
    } else {
      usage->error = r.status().message();
    }
  }
  if (!r.ok()) return r.status();
  // The first non-empty line, without a "Query:" label or quotes.
  std::string line;
  size_t pos = 0;
  while (pos <= reply.size() && line.empty()) {
    size_t nl = reply.find('\n', pos);
    if (nl == std::string::npos) nl = reply.size();
    line = Trim(std::string_view(reply).substr(pos, nl - pos));
    pos = nl + 1;
  }
  for (const char* label : {"Query:", "query:", "Requête :", "Requête:", "Search query:"})
    if (line.rfind(label, 0) == 0) line = Trim(std::string_view(line).substr(std::string_view(label).size()));
  if (line.size() >= 2 && (line.front() == '"' || line.front() == '\'') && line.back() == line.front())
    line = Trim(std::string_view(line).substr(1, line.size() - 2));
  line = SanitizeUtf8(TruncateUtf8(line, 500));
  if (line.empty()) return Status(ErrorKind::kUnavailable, "the model returned an empty query");
  return line;
}

std::unique_ptr<AnswerGenerator> MakeModelAnswerer(std::shared_ptr<ChatModel> model,
                                                   std::unique_ptr<AnswerGenerator> fallback,
                                                   ModelAnswererOptions options) {
  if (!fallback) fallback = MakeExtractiveAnswerer();
  return std::make_unique<ModelAnswerer>(std::move(model), std::move(fallback), std::move(options));
}

}  // namespace savoir
