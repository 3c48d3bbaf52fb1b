// Request bodies of the JSON and OpenAI-compatible APIs, parsed and checked
// before anything runs. Pure functions (no HTTP types) so that every rule is
// unit-tested; each error names the field concerned.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "answer/answer.h"
#include "common/status.h"
#include "retrieve/permission_filter.h"

namespace savoir {

struct RequestLimits {
  size_t max_query_bytes = 10 * 1024;  // a question, not a document
  size_t max_k = 100;
  size_t max_history = 50;             // turns kept from a conversation
};

struct SearchParams {
  std::string query;
  size_t k = 10;
  SearchFilters filters;
};

struct ChatParams {
  SearchParams search;
  std::vector<ChatTurn> history;  // oldest first
};

struct OpenAiChatParams {
  std::string model;
  std::string query;              // the last user message
  std::vector<ChatTurn> history;  // the messages before it (system ones dropped)
  bool stream = false;
  bool include_usage = false;     // stream_options.include_usage: a last chunk with `usage`
};

// A JSON object from a request body (400 when malformed or not an object).
Result<nlohmann::json> ParseJsonObject(std::string_view body);

// POST /api/search {query, k, filters: {sources, languages, updated_after}}.
Result<SearchParams> ParseSearchParams(const nlohmann::json& body, size_t default_k,
                                       const RequestLimits& limits = {});
// POST /api/chat {query, history, filters, k}.
Result<ChatParams> ParseChatParams(const nlohmann::json& body, const RequestLimits& limits = {});
// POST /v1/chat/completions {model, messages, stream}.
Result<OpenAiChatParams> ParseOpenAiChat(const nlohmann::json& body, const RequestLimits& limits = {});

// "2026-01-31", "2026-01-31T08:00:00Z", "2026-01-31T08:00:00.5+02:00" -> unix seconds.
Result<int64_t> ParseDate(std::string_view text);
// Unix seconds -> "2026-01-31T08:00:00Z".
std::string IsoTime(int64_t unix_seconds);

// Without a language model to rewrite follow-ups, a short question ("and for
// part-time staff?") is made stand-alone for retrieval by appending the
// previous user turn.
std::string StandaloneQuery(const std::string& query, const std::vector<ChatTurn>& history);

}  // namespace savoir
