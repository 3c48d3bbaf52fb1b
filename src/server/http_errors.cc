#include "server/http_errors.h"

#include <cstdio>
#include <exception>

namespace savoir {
namespace {

const char* OpenAiType(int http_status) {
  switch (http_status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 429: return "rate_limit_error";
    default: return http_status >= 500 ? "server_error" : "invalid_request_error";
  }
}

}  // namespace

int HttpStatusFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument: return 400;
    case ErrorKind::kNotFound: return 404;
    case ErrorKind::kPermissionDenied: return 403;
    case ErrorKind::kAlreadyExists: return 409;
    case ErrorKind::kTooLarge: return 413;
    case ErrorKind::kTimeout: return 504;
    case ErrorKind::kUnavailable: return 503;
    default: return 500;
  }
}

ErrorKind ErrorKindForHttpStatus(int status) {
  switch (status) {
    case 403: return ErrorKind::kPermissionDenied;
    case 404: case 405: return ErrorKind::kNotFound;
    case 408: return ErrorKind::kTimeout;
    case 413: case 414: case 431: return ErrorKind::kTooLarge;
    case 503: return ErrorKind::kUnavailable;
    default: return status < 500 ? ErrorKind::kInvalidArgument : ErrorKind::kInternal;
  }
}

nlohmann::json ErrorBody(const Status& status, ErrorStyle style, const std::string& code) {
  std::string c = code.empty() ? ErrorKindName(status.kind()) : code;
  if (style == ErrorStyle::kOpenAi)
    return {{"error", {{"message", status.message()}, {"type", OpenAiType(HttpStatusFor(status.kind()))},
                       {"param", nullptr}, {"code", c}}}};
  return {{"error", {{"code", c}, {"message", status.message()}}}};
}

void WriteError(httplib::Response& res, const Status& status, ErrorStyle style, const std::string& code) {
  WriteJson(res, ErrorBody(status, style, code), HttpStatusFor(status.kind()));
}

httplib::Server::Handler Guarded(ErrorStyle style, Route route) {
  return [style, route = std::move(route)](const httplib::Request& req, httplib::Response& res) {
    Status st;
    try {
      st = route(req, res);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "savoir: %s %s: unexpected exception: %s\n", req.method.c_str(), req.path.c_str(),
                   e.what());
      st = Status(ErrorKind::kInternal, "internal error (logged on the server)");
    } catch (...) {
      std::fprintf(stderr, "savoir: %s %s: unexpected non-standard exception\n", req.method.c_str(),
                   req.path.c_str());
      st = Status(ErrorKind::kInternal, "internal error (logged on the server)");
    }
    if (st.ok()) return;
    if (st.kind() == ErrorKind::kInternal || HttpStatusFor(st.kind()) >= 500)
      std::fprintf(stderr, "savoir: %s %s: %s\n", req.method.c_str(), req.path.c_str(), st.ToString().c_str());
    WriteError(res, st, style);
  };
}

std::string DumpJson(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void WriteJson(httplib::Response& res, const nlohmann::json& body, int status) {
  WriteJsonText(res, DumpJson(body), status);
}

void WriteJsonText(httplib::Response& res, std::string body, int status) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(std::move(body), "application/json; charset=utf-8");
}

}  // namespace savoir
