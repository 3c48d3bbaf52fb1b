// Answer generation: from a question and the retrieved passages to a short
// answer that cites its sources as [n]. Implementations: the extractive
// answerer (no language model; the default) and, later, language models
// (local GGUF, OpenAI-compatible, Bedrock) behind the same interface.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace savoir {

// One retrieved passage given to the answerer; n is its 1-based number in
// the sources list shown to the user.
struct Passage {
  int n = 0;
  int64_t doc_id = 0, chunk_id = 0;
  std::string title, url, heading_path, language;
  std::string text;        // the chunk's text
  uint32_t begin = 0;      // byte offset of `text` in the document's content
};

struct ChatTurn {
  std::string role;  // "user" or "assistant"
  std::string content;
};

struct AnswerRequest {
  std::string question;
  std::vector<ChatTurn> history;  // earlier turns, oldest first
  std::vector<Passage> passages;
  std::string language;           // of the question ("fr", "en"), may be empty
};

// A citation of passage n; [start, end) are byte offsets in the document's
// content of the cited text (a sentence, or the whole chunk).
struct Citation {
  int n = 0;
  int64_t doc_id = 0, chunk_id = 0;
  std::string title;
  uint32_t start = 0, end = 0;
};

// What producing one answer cost (the language model's figures; zeros for
// the extractive answerer). Recorded per answer in the store's answer_usage.
struct AnswerUsage {
  std::string model;               // empty: no model was called
  int64_t prompt_tokens = 0, completion_tokens = 0;
  double latency_ms = 0;           // model request sent -> last token
  double first_token_ms = 0;       // model request sent -> first token
  std::string error;               // why the model failed ("" when it did not)
};

struct Answer {
  std::string text;                 // the full answer, with [n] markers
  std::vector<Citation> citations;  // only passages actually cited
  std::string mode;                 // "extractive", later "model"
  std::string model;                // model name when mode is "model"
  std::string notice;               // shown to the user when not empty
  AnswerUsage usage;
};

// Receives the answer as it is produced; return false to stop early (the
// client went away).
using DeltaSink = std::function<bool(std::string_view delta)>;

class AnswerGenerator {
 public:
  virtual ~AnswerGenerator() = default;
  virtual std::string name() const = 0;
  // Streams deltas through `sink` (their concatenation is Answer::text) and
  // returns the complete answer.
  virtual Result<Answer> Generate(const AnswerRequest& request, const DeltaSink& sink) = 0;
};

}  // namespace savoir
