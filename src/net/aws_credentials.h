// AWS credentials and region, found the way the AWS SDKs find them:
//   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
//   2. shared files: AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials) and
//      AWS_CONFIG_FILE (~/.aws/config), profile AWS_PROFILE (default
//      "default"); a profile with role_arn + web_identity_token_file uses 3.
//   3. web identity (Kubernetes IRSA): AWS_WEB_IDENTITY_TOKEN_FILE +
//      AWS_ROLE_ARN (+ AWS_ROLE_SESSION_NAME) -> STS AssumeRoleWithWebIdentity
//      (endpoint: AWS_ENDPOINT_URL_STS, else https://sts.REGION.amazonaws.com)
//   4. container credentials (ECS, EKS Pod Identity):
//      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on http://169.254.170.2) or
//      AWS_CONTAINER_CREDENTIALS_FULL_URI (https, or http on a loopback or
//      the container link-local address), with AWS_CONTAINER_AUTHORIZATION_TOKEN
//      or AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE as the Authorization header
//   5. instance role through IMDSv2 (PUT a token, then GET the role name and
//      its credentials; endpoint AWS_EC2_METADATA_SERVICE_ENDPOINT, default
//      http://169.254.169.254; off with AWS_EC2_METADATA_DISABLED=true)
// Temporary credentials are cached and refreshed 5 minutes before they
// expire. Secrets never appear in messages or logs.
#pragma once

#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/status.h"
#include "net/aws_sigv4.h"
#include "net/http_client.h"

namespace savoir {

// Reads an environment variable (injectable for tests); nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;
EnvLookup ProcessEnv();

struct AwsCredentialOptions {
  EnvLookup env = ProcessEnv();
  std::string region;             // for the STS endpoint; may be empty
  std::function<std::time_t()> now = [] { return std::time(nullptr); };
  int refresh_before_s = 300;     // refresh temporary credentials this long before expiry
  int metadata_timeout_ms = 1000; // IMDS is link-local: answer fast or not at all
};

class AwsCredentialChain {
 public:
  explicit AwsCredentialChain(AwsCredentialOptions options = {});
  // Current credentials (cached; fetched again when near expiry). Error
  // kPermissionDenied naming every link tried when none has credentials.
  Result<AwsCredentials> Get();
  // Drops the cache (e.g. after the service refused the credentials).
  void Invalidate();

 private:
  Result<AwsCredentials> Resolve();
  Result<AwsCredentials> FromWebIdentity(const std::string& token_file, const std::string& role_arn,
                                         const std::string& session_name);
  Result<AwsCredentials> FromInstanceMetadata();
  Result<AwsCredentials> FromContainer(const std::string& url);

  AwsCredentialOptions opt_;
  std::mutex mu_;
  std::optional<AwsCredentials> cached_;
  HttpClient sts_, imds_;
};

// One profile of the shared files: credentials file section [name], config
// file section [profile name] (or [default]). Keys as written
// (aws_access_key_id, region, role_arn...). Empty map: no such profile.
std::map<std::string, std::string> LoadAwsProfile(const EnvLookup& env, const std::string& profile);

// Region: `configured` (--aws-region), AWS_REGION, AWS_DEFAULT_REGION, the
// profile's region. Error kInvalidArgument when none is set.
Result<std::string> ResolveAwsRegion(const std::string& configured, const EnvLookup& env = ProcessEnv());

// Parses an ISO 8601 UTC time ("2026-11-26T12:00:00Z", fractional seconds
// allowed) to time_t; 0 when malformed.
std::time_t ParseIso8601(const std::string& s);

}  // namespace savoir
