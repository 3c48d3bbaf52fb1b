// What the OpenAI-compatible clients (answer/openai_chat, embed/openai_embedder)
// share: the base URL and API key options, request headers, and one mapping
// of HTTP error responses to Status kinds. The API key is only ever placed
// in an Authorization header; no message built here contains it.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "net/http_client.h"

namespace savoir {

// "http://host:port/v1/" -> "http://host:port/v1". `flag` names the option
// in the error ("--chat-url").
Result<std::string> NormalizeBaseUrl(const std::string& url, const std::string& flag);

// The key in `path`, surrounding whitespace removed; "" when path is "".
// Errors name the file and the option, never the content.
Result<std::string> ReadApiKeyFile(const std::string& path, const std::string& flag);

// Content-Type, Accept and, with a key, "Authorization: Bearer KEY".
std::vector<std::string> OpenAiHeaders(const std::string& api_key, bool event_stream);

// A non-2xx response as a Status: 401/403 kPermissionDenied, 400/413/422
// kInvalidArgument with the server's own message, 404 kUnavailable (no such
// model / route), 429 and 5xx kUnavailable. `what` names the request
// ("POST http://127.0.0.1:8081/v1/chat/completions").
Status OpenAiHttpError(const HttpResponse& response, const std::string& what);

// The `message` of {"error": {"message": ...}} or {"error": "..."}, or the
// body itself (shortened) when it is not such JSON.
std::string ServerErrorMessage(const std::string& body);

}  // namespace savoir
