#include "net/aws_bedrock_runtime.h"

#include <nlohmann/json.hpp>

#include "net/aws_sigv4.h"

namespace savoir {

std::string AwsErrorMessage(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object()) {
    for (const char* k : {"message", "Message"}) {
      if (j.contains(k) && j[k].is_string()) return j[k].get<std::string>();
    }
  }
  return body.substr(0, 200);
}

BedrockRuntime::BedrockRuntime(BedrockRuntimeConfig config, std::shared_ptr<AwsCredentialChain> credentials)
    : config_(std::move(config)), credentials_(std::move(credentials)), http_(config_.http) {
  endpoint_ = config_.endpoint.empty() ? "https://bedrock-runtime." + config_.region + ".amazonaws.com"
                                       : config_.endpoint;
  while (!endpoint_.empty() && endpoint_.back() == '/') endpoint_.pop_back();
}

Result<HttpResponse> BedrockRuntime::Post(const std::string& model_id, const std::string& action,
                                          const std::string& json_body, const std::string& accept,
                                          const BodySink& sink) {
  auto creds = credentials_->Get();
  if (!creds.ok()) return creds.status();
  HttpRequest req;
  req.method = "POST";
  req.url = endpoint_ + "/model/" + AwsUriEncode(model_id, false) + "/" + action;
  req.headers = {"Content-Type: application/json"};
  if (!accept.empty()) req.headers.push_back("Accept: " + accept);
  req.body = json_body;
  SAVOIR_RETURN_IF_ERROR(SigV4SignHttpRequest(&req, *creds, config_.region, "bedrock", config_.now()));
  auto resp = http_.Send(req, sink);
  if (!resp.ok()) return resp.status();
  long status = resp->status;
  if (status >= 200 && status < 300) return resp;
  std::string type = resp->headers.count("x-amzn-errortype") ? resp->headers["x-amzn-errortype"] : "";
  type = type.substr(0, type.find(':'));
  std::string what = "Bedrock " + action + " " + model_id + " answered HTTP " + std::to_string(status) +
                     (type.empty() ? "" : " " + type) + ": " + AwsErrorMessage(resp->body);
  if (status == 403 || status == 401) {
    credentials_->Invalidate();  // fetch them again next time (rotated keys, new role session)
    return Status(ErrorKind::kPermissionDenied, "Bedrock refused the AWS credentials (" + creds->source + "): " + what);
  }
  if (status == 429 || status >= 500) return Status(ErrorKind::kUnavailable, what);
  return Status(ErrorKind::kInvalidArgument, what);
}

Result<std::shared_ptr<BedrockRuntime>> MakeBedrockRuntime(const std::string& region_option,
                                                           const std::string& endpoint_option, int idle_timeout_ms,
                                                           const std::string& sts_endpoint) {
  auto region = ResolveAwsRegion(region_option);
  if (!region.ok()) return region.status();
  AwsCredentialOptions copt;
  copt.region = *region;
  copt.sts_endpoint = sts_endpoint;
  auto chain = std::make_shared<AwsCredentialChain>(copt);
  BedrockRuntimeConfig rc;
  rc.region = *region;
  rc.endpoint = endpoint_option;
  rc.http.idle_timeout_ms = idle_timeout_ms;
  return std::make_shared<BedrockRuntime>(rc, chain);
}

}  // namespace savoir
