#include "net/openai_http.h"

#include <nlohmann/json.hpp>

#include "common/file.h"
#include "common/utf8.h"

namespace savoir {

Result<std::string> NormalizeBaseUrl(const std::string& url, const std::string& flag) {
  std::string u = url;
  while (!u.empty() && (u.back() == '/' || u.back() == ' ')) u.pop_back();
  if (u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0)
    return Status(ErrorKind::kInvalidArgument,
                  flag + " must be an http:// or https:// base URL such as http://127.0.0.1:8081/v1, not '" +
                      std::string(TruncateUtf8(url, 200)) + "'");
  if (u.find_first_of(" \t\r\n?#") != std::string::npos)
    return Status(ErrorKind::kInvalidArgument, flag + " must be a base URL without spaces, query or fragment");
  return u;
}

Result<std::string> ReadApiKeyFile(const std::string& path, const std::string& flag) {
  if (path.empty()) return std::string();
  auto content = ReadFile(path);
  if (!content.ok()) return Status(content.status().kind(), flag + " " + path + ": " + content.status().message());
  std::string key = *content;
  size_t b = key.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return Status(ErrorKind::kInvalidArgument, flag + " " + path + " is empty");
  key = key.substr(b, key.find_last_not_of(" \t\r\n") - b + 1);
  if (key.find_first_of("\r\n") != std::string::npos)
    return Status(ErrorKind::kInvalidArgument, flag + " " + path + " must hold the key on one line");
  return key;
}

std::vector<std::string> OpenAiHeaders(const std::string& api_key, bool event_stream) {
  std::vector<std::string> h = {"Content-Type: application/json",
                                event_stream ? "Accept: text/event-stream" : "Accept: application/json"};
  if (!api_key.empty()) h.push_back("Authorization: Bearer " + api_key);
  return h;
}

std::string ServerErrorMessage(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error")) {
    const auto& e = j["error"];
    if (e.is_string()) return e.get<std::string>();
    if (e.is_object() && e.contains("message") && e["message"].is_string()) return e["message"].get<std::string>();
  }
  if (j.is_object() && j.contains("message") && j["message"].is_string()) return j["message"].get<std::string>();
  std::string s = SanitizeUtf8(TruncateUtf8(body, 300));
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

Status OpenAiHttpError(const HttpResponse& r, const std::string& what) {
  std::string msg = ServerErrorMessage(r.body);
  std::string head = what + ": HTTP " + std::to_string(r.status) + (msg.empty() ? "" : ": " + msg);
  if (r.status == 401 || r.status == 403)
    return Status(ErrorKind::kPermissionDenied, head + " (check the API key file)");
  if (r.status == 400 || r.status == 413 || r.status == 422) return Status(ErrorKind::kInvalidArgument, head);
  return Status(ErrorKind::kUnavailable, head);
}

}  // namespace savoir
