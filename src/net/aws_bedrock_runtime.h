// A signed connection to the Bedrock runtime API, shared by the chat model
// (answer/bedrock_chat) and the embedder (embed/bedrock_embedder): the
// endpoint (https://bedrock-runtime.REGION.amazonaws.com or a VPC endpoint),
// the credential chain, SigV4 signing (service "bedrock") of each attempt,
// and Bedrock's errors mapped to Status kinds.
#pragma once

#include <ctime>
#include <functional>
#include <memory>
#include <string>

#include "common/status.h"
#include "net/aws_credentials.h"
#include "net/http_client.h"

namespace savoir {

struct BedrockRuntimeConfig {
  std::string region;    // required
  std::string endpoint;  // empty: https://bedrock-runtime.<region>.amazonaws.com
  HttpOptions http = [] {
    HttpOptions o;
    o.timeout_ms = 300000;      // a long answer streams for minutes
    o.max_attempts = 3;
    o.max_retry_after_s = 60;   // a signature is valid for 5 minutes
    o.requests_per_minute = 0;  // Bedrock's quotas answer 429, which is retried
    o.user_agent = "savoir/0.1";
    return o;
  }();
  std::function<std::time_t()> now = [] { return std::time(nullptr); };  // signing clock (tests skew it)
};

class BedrockRuntime {
 public:
  BedrockRuntime(BedrockRuntimeConfig config, std::shared_ptr<AwsCredentialChain> credentials);
  // POST {endpoint}/model/{url-encoded model id}/{action} with a JSON body,
  // signed, with an Accept header unless `accept` is empty (Converse and
  // ConverseStream send none, as the AWS SDKs do). A 2xx body goes to `sink` when given. Non-2xx answers become
  // errors: 403 kPermissionDenied ("credentials refused"), 400/404/422
  // kInvalidArgument, 429/5xx kUnavailable.
  Result<HttpResponse> Post(const std::string& model_id, const std::string& action, const std::string& json_body,
                            const std::string& accept, const BodySink& sink = nullptr);
  const std::string& endpoint() const { return endpoint_; }
  const std::string& region() const { return config_.region; }

 private:
  BedrockRuntimeConfig config_;
  std::string endpoint_;
  std::shared_ptr<AwsCredentialChain> credentials_;
  HttpClient http_;
};

// Builds a runtime from --aws-region / --bedrock-endpoint and the process
// environment's credential chain; idle_timeout_ms from
// --model-idle-timeout-s, sts_endpoint from --aws-sts-endpoint.
Result<std::shared_ptr<BedrockRuntime>> MakeBedrockRuntime(const std::string& region_option,
                                                           const std::string& endpoint_option,
                                                           int idle_timeout_ms = 0,
                                                           const std::string& sts_endpoint = "");

// The message of an AWS JSON error body ({"message": ...} or {"Message": ...}).
std::string AwsErrorMessage(const std::string& body);

}  // namespace savoir
