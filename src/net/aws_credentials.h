// AWS credentials and region, found the way the AWS SDKs find them:
//   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
//   2. shared files: AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials) and
//      AWS_CONFIG_FILE (~/.aws/config), profile AWS_PROFILE (default
//      "default"). In the profile, as botocore orders them:
//      a. role_arn + source_profile or credential_source (Environment,
//         Ec2InstanceMetadata, EcsContainer) -> STS AssumeRole signed with
//         the source's credentials (external_id, role_session_name,
//         duration_seconds honoured; mfa_serial refused: nobody can type a
//         code into a server). Source profiles chain (a role assumed from a
//         role ...); a loop is an error naming the profiles.
//      b. role_arn + web_identity_token_file -> as 3.
//      c. sso_session (with an [sso-session NAME] section) or the legacy
//         sso_start_url + sso_region, with sso_account_id and sso_role_name:
//         the token `aws sso login` cached in ~/.aws/sso/cache/SHA1.json,
//         traded at the SSO portal (GetRoleCredentials) for role credentials
//         (endpoint AWS_ENDPOINT_URL_SSO, else
//         https://portal.sso.SSO_REGION.amazonaws.com); an sso-session token
//         within 15 minutes of expiry is renewed with its cached refresh
//         token (SSO OIDC CreateToken, AWS_ENDPOINT_URL_SSO_OIDC, else
//         https://oidc.SSO_REGION.amazonaws.com) and written back
//      d. aws_access_key_id + aws_secret_access_key (+ aws_session_token)
//      e. credential_process: the command, run without a shell (split as a
//         POSIX shell would, no expansion), prints JSON Version 1
//   3. web identity (Kubernetes IRSA): AWS_WEB_IDENTITY_TOKEN_FILE +
//      AWS_ROLE_ARN (+ AWS_ROLE_SESSION_NAME) -> STS AssumeRoleWithWebIdentity
//   4. container credentials (ECS, EKS Pod Identity):
//      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on http://169.254.170.2) or
//      AWS_CONTAINER_CREDENTIALS_FULL_URI (https, or http on a loopback or
//      the container link-local address), with AWS_CONTAINER_AUTHORIZATION_TOKEN
//      or AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE as the Authorization header
//   5. instance role through IMDSv2 (PUT a token, then GET the role name and
//      its credentials; endpoint AWS_EC2_METADATA_SERVICE_ENDPOINT, default
//      http://169.254.169.254; off with AWS_EC2_METADATA_DISABLED=true)
// STS endpoint: AwsCredentialOptions::sts_endpoint (--aws-sts-endpoint),
// else AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else
// https://sts.REGION.amazonaws.com (https://sts.amazonaws.com without a region).
// Temporary credentials (every link that returns an expiration, and each
// link of a role chain) are cached and refreshed refresh_before_s before they
// expire; while one thread refreshes, the others keep using the current
// ones. Secrets never appear in messages or logs.
#pragma once

#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

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
  std::string sts_endpoint;       // empty: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, https://sts.REGION.amazonaws.com
  int process_timeout_ms = 60000; // a credential_process that runs longer is killed
  int failed_refresh_retry_s = 10; // after a failed refresh, unexpired credentials serve this long before the next try
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
  using Profile = std::map<std::string, std::string>;
  Result<AwsCredentials> Resolve();
  // The credentials a profile yields; nullopt when it holds none of a-e.
  Result<std::optional<AwsCredentials>> FromProfile(const std::string& name, const Profile& profile,
                                                    std::vector<std::string> visited);
  Result<AwsCredentials> FromSourceProfile(const std::string& parent, const std::string& source,
                                           const std::vector<std::string>& visited);
  Result<AwsCredentials> FromCredentialSource(const std::string& profile_name, const std::string& source);
  Result<AwsCredentials> AssumeRole(const std::string& profile_name, const Profile& profile,
                                    const AwsCredentials& source);
  Result<AwsCredentials> FromSso(const std::string& profile_name, const Profile& profile);
  // A new SSO access token and its expiry from the refresh token in the
  // cached token `cached` (written back to cache_file); kNotFound when it
  // holds no refresh token.
  Result<std::pair<std::string, std::time_t>> RefreshSsoToken(const nlohmann::json& cached, const std::string& start_url,
                                                               const std::string& sso_region,
                                                               const std::string& cache_file);
  Result<AwsCredentials> FromProcess(const std::string& profile_name, const std::string& command);
  Result<AwsCredentials> FromWebIdentity(const std::string& token_file, const std::string& role_arn,
                                         const std::string& session_name);
  Result<AwsCredentials> FromInstanceMetadata();
  Result<AwsCredentials> FromContainer(const std::string& url);
  // Credentials from STS (AssumeRole, AssumeRoleWithWebIdentity): POSTs the
  // form, signed with `signer` when given, and parses the XML answer.
  Result<AwsCredentials> CallSts(const std::string& action, const std::vector<std::pair<std::string, std::string>>& params,
                                 const std::string& role_arn, const AwsCredentials* signer,
                                 const std::string& source);
  // `fetch` unless credentials cached under `key` are still fresh.
  Result<AwsCredentials> Cached(const std::string& key, const std::function<Result<AwsCredentials>()>& fetch);
  bool Fresh(const AwsCredentials& c, std::time_t now) const;

  AwsCredentialOptions opt_;
  std::mutex mu_;          // guards cached_, links_, retry_at_
  std::mutex refresh_mu_;  // one refresh at a time
  std::optional<AwsCredentials> cached_;
  std::map<std::string, AwsCredentials> links_;  // temporary credentials of inner links (source roles, SSO ...)
  std::time_t retry_at_ = 0;
  HttpClient sts_, imds_, sso_;
};

// Splits a command line as a POSIX shell would (quotes, backslashes), with
// no expansion of any kind. Error on an unterminated quote.
Result<std::vector<std::string>> SplitCommandLine(const std::string& line);

// Runs argv[0] (looked up in PATH) with argv, no shell, stdin from
// /dev/null; returns its standard output. Errors: cannot start, a non-zero
// exit (with the start of its standard error), still running after
// timeout_ms (the process group is killed), more than max_output bytes.
struct ProcessOutput {
  int exit_code = 0;
  std::string out, err;
};
Result<ProcessOutput> RunProcess(const std::vector<std::string>& argv, int timeout_ms, size_t max_output = 1 << 20);

// One profile of the shared files: credentials file section [name], config
// file section [profile name] (or [default]). Keys as written
// (aws_access_key_id, region, role_arn...). Empty map: no such profile.
std::map<std::string, std::string> LoadAwsProfile(const EnvLookup& env, const std::string& profile);
// Any other section of the config file, e.g. "sso-session corp"; empty when absent.
std::map<std::string, std::string> LoadAwsConfigSection(const EnvLookup& env, const std::string& section);

// Region: `configured` (--aws-region), AWS_REGION, AWS_DEFAULT_REGION, the
// profile's region. Error kInvalidArgument when none is set.
Result<std::string> ResolveAwsRegion(const std::string& configured, const EnvLookup& env = ProcessEnv());

// Parses an ISO 8601 UTC time ("2026-11-26T12:00:00Z", fractional seconds
// allowed) to time_t; 0 when malformed.
std::time_t ParseIso8601(const std::string& s);

}  // namespace savoir
