// The HTTP boundary's one error wrapper. Handlers return a Status; this file
// alone turns an ErrorKind into a status code and a JSON body, and no
// exception gets past it (an escaped exception would kill the connection
// thread's request without a response, or worse, the process).
#pragma once

#include <httplib.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "common/status.h"

namespace savoir {

// The Savoir API answers {"error": {"code", "message"}}; the OpenAI-compatible
// API answers {"error": {"message", "type", "code"}} because its clients parse
// that shape.
enum class ErrorStyle { kSavoir, kOpenAi };

int HttpStatusFor(ErrorKind kind);
// The kind an HTTP status stands for, for errors httplib raises itself
// (413 from the body limit, 404 when no route matches).
ErrorKind ErrorKindForHttpStatus(int status);

// `code` overrides the machine-readable code (default: the kind's name).
nlohmann::json ErrorBody(const Status& status, ErrorStyle style, const std::string& code = "");
void WriteError(httplib::Response& res, const Status& status, ErrorStyle style,
                const std::string& code = "");

// A route body: fills `res` and returns ok, or returns the error to report.
using Route = std::function<Status(const httplib::Request& req, httplib::Response& res)>;

// Wraps a route for httplib: maps a failed Status to its response and turns
// any exception into a logged 500.
httplib::Server::Handler Guarded(ErrorStyle style, Route route);

// JSON in responses: invalid UTF-8 from documents is replaced, never thrown on.
std::string DumpJson(const nlohmann::json& j);
void WriteJson(httplib::Response& res, const nlohmann::json& body, int status = 200);
// The same with the body already serialized.
void WriteJsonText(httplib::Response& res, std::string body, int status = 200);

}  // namespace savoir
