#include "server/request_parsing.h"

#include <cctype>
#include <cmath>
#include <ctime>

#include "common/json_read.h"
#include "common/utf8.h"

namespace savoir {
namespace {
using json = nlohmann::json;

Status Invalid(const std::string& message) { return Status(ErrorKind::kInvalidArgument, message); }

const char* TypeName(const json& j) { return j.type_name(); }

// The question: a non-blank string within the size limit.
Result<std::string> QueryField(const json& body, const char* field, const RequestLimits& limits) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return Invalid(std::string(field) + " is required");
  if (!it->is_string())
    return Invalid(std::string(field) + " must be a string, not " + TypeName(*it));
  const std::string& q = it->get_ref<const std::string&>();
  if (q.size() > limits.max_query_bytes)
    return Status(ErrorKind::kTooLarge, std::string(field) + " is " + std::to_string(q.size()) +
                                            " bytes long; at most " +
                                            std::to_string(limits.max_query_bytes) + " are accepted");
  if (q.find_first_not_of(" \t\r\n") == std::string::npos) return Invalid(std::string(field) + " is empty");
  return q;
}

Result<size_t> KField(const json& body, size_t default_k, const RequestLimits& limits) {
  auto it = body.find("k");
  if (it == body.end() || it->is_null()) return default_k;
  // Booleans and 2.5 are not counts; JSON numbers like 10.0 are accepted.
  bool integral = it->is_number_integer() ||
                  (it->is_number_float() && std::floor(it->get<double>()) == it->get<double>());
  if (!integral) return Invalid(std::string("k must be an integer, not ") + TypeName(*it));
  double k = it->get<double>();
  if (k < 1 || k > static_cast<double>(limits.max_k))
    return Invalid("k must be between 1 and " + std::to_string(limits.max_k));
  return static_cast<size_t>(k);
}

Result<SearchFilters> FiltersField(const json& body) {
  SearchFilters f;
  auto it = body.find("filters");
  if (it == body.end() || it->is_null()) return f;
  if (!it->is_object()) return Invalid(std::string("filters must be an object, not ") + TypeName(*it));
  const json& fj = *it;
  if (auto s = fj.find("sources"); s != fj.end() && !s->is_null()) {
    if (!s->is_array()) return Invalid("filters.sources must be an array of source ids");
    for (const auto& v : *s) {
      if (!v.is_number_integer()) return Invalid("filters.sources must hold integer source ids");
      f.sources.push_back(v.get<int64_t>());
    }
  }
  if (auto l = fj.find("languages"); l != fj.end() && !l->is_null()) {
    if (!l->is_array()) return Invalid("filters.languages must be an array of language codes");
    for (const auto& v : *l) {
      if (!v.is_string() || v.get_ref<const std::string&>().size() != 2)
        return Invalid("filters.languages must hold 2-letter language codes such as \"fr\"");
      f.languages.push_back(v.get<std::string>());
    }
  }
  if (auto d = fj.find("updated_after"); d != fj.end() && !d->is_null()) {
    if (!d->is_string()) return Invalid("filters.updated_after must be a date string such as \"2026-01-31\"");
    const std::string& text = d->get_ref<const std::string&>();
    if (!text.empty()) {
      auto t = ParseDate(text);
      if (!t.ok()) return Invalid("filters.updated_after: " + t.status().message());
      f.updated_after = std::max<int64_t>(*t, 1);  // 0 means "no limit"
    }
  }
  return f;
}

Result<std::vector<ChatTurn>> HistoryField(const json& body, const RequestLimits& limits) {
  std::vector<ChatTurn> out;
  auto it = body.find("history");
  if (it == body.end() || it->is_null()) return out;
  if (!it->is_array()) return Invalid(std::string("history must be an array, not ") + TypeName(*it));
  size_t first = it->size() > limits.max_history ? it->size() - limits.max_history : 0;
  for (size_t i = first; i < it->size(); ++i) {
    const json& t = (*it)[i];
    std::string where = "history[" + std::to_string(i) + "]";
    if (!t.is_object()) return Invalid(where + " must be an object {role, content}");
    auto role = t.find("role"), content = t.find("content");
    if (role == t.end() || !role->is_string() || (*role != "user" && *role != "assistant"))
      return Invalid(where + ".role must be \"user\" or \"assistant\"");
    if (content == t.end() || !content->is_string()) return Invalid(where + ".content must be a string");
    out.push_back(ChatTurn{role->get<std::string>(), content->get<std::string>()});
  }
  return out;
}

// OpenAI message content: a string, or an array of {type: "text", text} parts.
Result<std::string> MessageText(const json& content, const std::string& where) {
  if (content.is_null()) return std::string();
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) return Invalid(where + ".content must be a string or an array of parts");
  std::string text;
  for (const auto& part : content) {
    if (!part.is_object() || JsonString(part, "type") != "text" || !part.contains("text") || !part["text"].is_string())
      return Invalid(where + ".content parts must be {\"type\": \"text\", \"text\": \"...\"}");
    if (!text.empty()) text += "\n";
    text += part["text"].get<std::string>();
  }
  return text;
}

int Digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return -1;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

}  // namespace

Result<json> ParseJsonObject(std::string_view body) {
  if (body.empty()) return Invalid("the request body is empty; a JSON object is expected");
  json j = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Invalid("the request body is not valid JSON");
  if (!j.is_object()) return Invalid(std::string("the request body must be a JSON object, not ") + TypeName(j));
  return j;
}

Result<SearchParams> ParseSearchParams(const json& body, size_t default_k, const RequestLimits& limits) {
  SearchParams p;
  SAVOIR_ASSIGN_OR_RETURN(p.query, QueryField(body, "query", limits));
  SAVOIR_ASSIGN_OR_RETURN(p.k, KField(body, default_k, limits));
  SAVOIR_ASSIGN_OR_RETURN(p.filters, FiltersField(body));
  return p;
}

Result<ChatParams> ParseChatParams(const json& body, const RequestLimits& limits) {
  ChatParams p;
  SAVOIR_ASSIGN_OR_RETURN(p.search, ParseSearchParams(body, 8, limits));
  SAVOIR_ASSIGN_OR_RETURN(p.history, HistoryField(body, limits));
  return p;
}

Result<OpenAiChatParams> ParseOpenAiChat(const json& body, const RequestLimits& limits) {
  OpenAiChatParams p;
  p.model = "savoir";
  if (auto m = body.find("model"); m != body.end() && !m->is_null()) {
    if (!m->is_string()) return Invalid("model must be a string");
    p.model = m->get<std::string>();
  }
  if (auto s = body.find("stream"); s != body.end() && !s->is_null()) {
    if (!s->is_boolean()) return Invalid("stream must be true or false");
    p.stream = s->get<bool>();
  }
  if (auto so = body.find("stream_options"); so != body.end() && !so->is_null()) {
    if (!so->is_object()) return Invalid("stream_options must be an object");
    if (auto u = so->find("include_usage"); u != so->end() && !u->is_null()) {
      if (!u->is_boolean()) return Invalid("stream_options.include_usage must be true or false");
      p.include_usage = u->get<bool>();
    }
  }
  auto msgs = body.find("messages");
  if (msgs == body.end() || !msgs->is_array() || msgs->empty())
    return Invalid("messages must be a non-empty array of {role, content}");
  std::vector<ChatTurn> turns;
  for (size_t i = 0; i < msgs->size(); ++i) {
    const json& m = (*msgs)[i];
    std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
      return Invalid(where + " must be an object with a string role");
    std::string role = m["role"].get<std::string>();
    SAVOIR_ASSIGN_OR_RETURN(std::string text, MessageText(m.value("content", json()), where));
    // System and developer prompts steer a language model; retrieval has no use for them.
    if (role == "user" || role == "assistant") turns.push_back(ChatTurn{role, std::move(text)});
  }
  if (turns.empty() || turns.back().role != "user") return Invalid("the last message must come from the user");
  json q = turns.back().content;
  SAVOIR_ASSIGN_OR_RETURN(p.query, QueryField(json{{"messages[-1].content", q}}, "messages[-1].content", limits));
  turns.pop_back();
  size_t first = turns.size() > limits.max_history ? turns.size() - limits.max_history : 0;
  p.history.assign(turns.begin() + static_cast<std::ptrdiff_t>(first), turns.end());
  return p;
}

Result<int64_t> ParseDate(std::string_view s) {
  const Status bad = Invalid("'" + std::string(s.substr(0, 40)) +
                             "' is not a date (expected YYYY-MM-DD or an ISO 8601 date-time)");
  std::tm tm{};
  int y = Digits(s, 0, 4), mo = Digits(s, 5, 2), d = Digits(s, 8, 2);
  if (y < 1970 || s.size() < 10 || s[4] != '-' || s[7] != '-' || mo < 1 || mo > 12 || d < 1 || d > 31) return bad;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  int64_t offset = 0;
  size_t pos = 10;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return bad;
    int h = Digits(s, pos + 1, 2), mi = Digits(s, pos + 4, 2);
    if (h < 0 || h > 23 || mi < 0 || mi > 59 || s[pos + 3] != ':') return bad;
    tm.tm_hour = h;
    tm.tm_min = mi;
    pos += 6;
    if (pos < s.size() && s[pos] == ':') {
      int sec = Digits(s, pos + 1, 2);
      if (sec < 0 || sec > 60) return bad;
      tm.tm_sec = sec;
      pos += 3;
      if (pos < s.size() && s[pos] == '.') {
        ++pos;
        size_t start = pos;
        while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
        if (pos == start) return bad;
      }
    }
    if (pos < s.size()) {
      if (s[pos] == 'Z' || s[pos] == 'z') {
        ++pos;
      } else if (s[pos] == '+' || s[pos] == '-') {
        int oh = Digits(s, pos + 1, 2);
        size_t mpos = pos + 3 < s.size() && s[pos + 3] == ':' ? pos + 4 : pos + 3;
        int om = Digits(s, mpos, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59) return bad;
        offset = (s[pos] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
        pos = mpos + 2;
      }
    }
    if (pos != s.size()) return bad;
  }
  std::tm check = tm;
  time_t t = timegm(&tm);
  if (tm.tm_mday != check.tm_mday) return bad;  // 2026-02-31 rolled over
  return static_cast<int64_t>(t) - offset;
}

std::string IsoTime(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string StandaloneQuery(const std::string& query, const std::vector<ChatTurn>& history) {
  constexpr size_t kShortWords = 8;      // "and for part-time staff?" needs its context
  constexpr size_t kMaxContext = 1000;   // bytes of the previous question kept
  size_t words = 0;
  bool in_word = false;
  for (char c : query) {
    bool space = std::isspace(static_cast<unsigned char>(c));
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  if (words > kShortWords) return query;
  for (auto it = history.rbegin(); it != history.rend(); ++it)
    if (it->role == "user" && !it->content.empty())
      return query + "\n" + std::string(TruncateUtf8(it->content, kMaxContext));
  return query;
}

}  // namespace savoir
