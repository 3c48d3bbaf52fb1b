// The profile links of the AWS credential chain (src/net/aws_credentials.*):
// roles assumed through STS from source profiles and credential sources,
// credential_process, SSO, and the caching / refreshing of temporary
// credentials — each against local servers that check what an AWS SDK would
// send: the STS requests' SigV4 signatures are recomputed with our signer from
// the secret of the key they name, and checked again with the npm `aws4`
// signer (tests/js) when node is present.
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <regex>
#include <thread>

#include <sys/stat.h>
#include <unistd.h>

#include "aws_test_util.h"
#include "net/aws_credentials.h"
#include "net/aws_sigv4.h"
#include "test_util.h"

namespace savoir {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const std::string kJsDir = std::string(SAVOIR_SOURCE_DIR) + "/tests/js";

using awstest::IsoTime;
using awstest::LocalServer;
using awstest::MapEnv;

std::string Shell(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

// A fresh HOME with ~/.aws/config and ~/.aws/credentials.
std::string MakeHome(const std::string& name, const std::string& config, const std::string& credentials) {
  std::string dir = savoir::testing::ScratchDir() + "/" + name + "." + std::to_string(getpid());
  fs::remove_all(dir);
  fs::create_directories(dir + "/.aws");
  std::ofstream(dir + "/.aws/config") << config;
  std::ofstream(dir + "/.aws/credentials") << credentials;
  return dir;
}

// ---- A fake STS that checks signatures ------------------------------------

struct StsCall {
  std::string action, role_arn, session_name, external_id, duration;
  std::string key_id;  // the access key that signed it
  std::string token;   // its X-Amz-Security-Token
  std::string region;  // of the credential scope
  std::map<std::string, std::string> signed_headers;
  std::string authorization, body;
};

struct Role {
  std::string key, secret, token;
  std::time_t expires;
};

class FakeSts {
 public:
  LocalServer srv;
  std::mutex mu;
  std::vector<StsCall> calls;
  std::map<std::string, std::string> secrets;  // access key -> secret: who may call
  std::map<std::string, Role> roles;           // role ARN -> the credentials it hands out
  std::map<std::string, int> issued;           // role ARN -> sessions handed out
  int delay_ms = 0;

  FakeSts() {
    srv.server.Post("/", [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); });
    srv.Start();
  }

  static void Error(httplib::Response& res, int status, const std::string& code, const std::string& message) {
    res.status = status;
    res.set_content("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>" +
                        code + "</Code><Message>" + message + "</Message></Error></ErrorResponse>",
                    "text/xml");
  }

  void Handle(const httplib::Request& req, httplib::Response& res) {
    if (delay_ms) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    StsCall call;
    call.action = req.get_param_value("Action");
    call.role_arn = req.get_param_value("RoleArn");
    call.session_name = req.get_param_value("RoleSessionName");
    call.external_id = req.get_param_value("ExternalId");
    call.duration = req.get_param_value("DurationSeconds");
    call.authorization = req.get_header_value("Authorization");
    call.token = req.get_header_value("X-Amz-Security-Token");
    call.body = req.body;
    std::lock_guard<std::mutex> lock(mu);
    if (req.get_param_value("Version") != "2011-06-15" ||
        req.get_header_value("Content-Type") != "application/x-www-form-urlencoded; charset=utf-8") {
      return Error(res, 400, "InvalidAction", "bad form");
    }
    // "AWS4-HMAC-SHA256 Credential=AK/DATE/REGION/sts/aws4_request, SignedHeaders=a;b, Signature=hex"
    std::smatch m;
    static const std::regex kAuth(
        "AWS4-HMAC-SHA256 Credential=([^/]+)/(\\d{8})/([^/]+)/sts/aws4_request, SignedHeaders=([a-z0-9;-]+), "
        "Signature=([0-9a-f]{64})");
    if (!std::regex_match(call.authorization, m, kAuth)) {
      return Error(res, 403, "MissingAuthenticationToken", "Request is missing Authentication Token");
    }
    call.key_id = m[1];
    call.region = m[3];
    if (!secrets.count(call.key_id)) return Error(res, 403, "InvalidClientTokenId", "The security token included in the request is invalid.");
    SigV4Request again{"POST", req.path, "", {}, req.body};
    std::string names = m[4];
    for (size_t a = 0; a <= names.size();) {
      size_t b = names.find(';', a);
      if (b == std::string::npos) b = names.size();
      std::string name = names.substr(a, b - a);
      call.signed_headers[name] = req.get_header_value(name.c_str());
      again.headers.emplace_back(name, req.get_header_value(name.c_str()));
      a = b + 1;
    }
    if (!call.signed_headers.count("host") || !call.signed_headers.count("x-amz-date") ||
        !call.signed_headers.count("content-type")) {
      return Error(res, 403, "SignatureDoesNotMatch", "host, x-amz-date and content-type must be signed");
    }
    AwsCredentials who{call.key_id, secrets[call.key_id], "", 0, "check"};
    SigV4Signature expected = SigV4Sign(again, who, call.region, "sts", 0);
    if (expected.authorization != call.authorization) {
      return Error(res, 403, "SignatureDoesNotMatch", "The request signature we calculated does not match");
    }
    calls.push_back(call);
    if (call.action != "AssumeRole") return Error(res, 400, "InvalidAction", "unexpected action");
    auto it = roles.find(call.role_arn);
    if (it == roles.end()) return Error(res, 403, "AccessDenied", "not authorized to perform sts:AssumeRole");
    int n = ++issued[call.role_arn];
    Role r = it->second;
    std::string key = r.key + std::to_string(n);
    secrets[key] = r.secret;  // the new session may sign in turn
    res.set_content("<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult>"
                    "<AssumedRoleUser><AssumedRoleId>AROA:" + call.session_name + "</AssumedRoleId><Arn>" + call.role_arn +
                        "</Arn></AssumedRoleUser><Credentials><AccessKeyId>" + key + "</AccessKeyId><SecretAccessKey>" +
                        r.secret + "</SecretAccessKey><SessionToken>" + r.token + std::to_string(n) +
                        "</SessionToken><Expiration>" + IsoTime(r.expires) + "</Expiration></Credentials>"
                        "</AssumeRoleResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>"
                        "</AssumeRoleResponse>",
                    "text/xml");
  }
};

bool NodeToolsPresent() {
  return std::system("node --version > /dev/null 2>&1") == 0 && fs::exists(kJsDir + "/node_modules/aws4");
}

// The npm aws4 signer's Authorization for each recorded call, given the
// secret (and token) of the key that signed it.
std::vector<std::string> Aws4Authorizations(const std::vector<StsCall>& calls, const std::map<std::string, std::string>& secrets) {
  Json requests = Json::array();
  for (const auto& c : calls) {
    Json headers = Json::object();
    for (const auto& [k, v] : c.signed_headers) headers[k] = v;
    Json creds = {{"accessKeyId", c.key_id}, {"secretAccessKey", secrets.at(c.key_id)}};
    if (!c.token.empty()) creds["sessionToken"] = c.token;
    requests.push_back({{"host", c.signed_headers.at("host")}, {"method", "POST"}, {"path", "/"}, {"query", ""},
                        {"headers", headers}, {"body", c.body}, {"service", "sts"}, {"region", c.region},
                        {"credentials", creds}, {"ignoreHeaders", {{"content-length", true}}}});
  }
  std::string in = savoir::testing::ScratchDir() + "/aws4_sts_in." + std::to_string(getpid()) + ".json";
  std::ofstream(in, std::ios::binary) << requests.dump();
  Json out = Json::parse(Shell("cd '" + kJsDir + "' && node aws-tools.mjs sign < '" + in + "'"), nullptr, false);
  fs::remove(in);
  std::vector<std::string> auths;
  if (out.is_array())
    for (const auto& o : out) auths.push_back(o["authorization"]);
  return auths;
}

TEST(AwsProfiles, AssumeRoleChainSignedBySourceProfiles) {
  FakeSts sts;
  std::time_t now = std::time(nullptr);
  sts.secrets["AKBASE"] = "base/secret+1";
  sts.roles["arn:aws:iam::111111111111:role/middle"] = {"ASIAMID", "midsecret", "MIDTOKEN", now + 7200};
  sts.roles["arn:aws:iam::222222222222:role/top"] = {"ASIATOP", "topsecret", "TOPTOKEN", now + 3600};
  std::string home = MakeHome("aws_chain",
                              "[profile top]\nrole_arn = arn:aws:iam::222222222222:role/top\nsource_profile = middle\n"
                              "region = eu-west-3\n"
                              "[profile middle]\nrole_arn = arn:aws:iam::111111111111:role/middle\nsource_profile = base\n"
                              "external_id = ext-42\nduration_seconds = 7200\nrole_session_name = savoir-mid\n",
                              "[base]\naws_access_key_id = AKBASE\naws_secret_access_key = base/secret+1\n");
  std::time_t clock = now;
  AwsCredentialOptions o;
  o.now = [&] { return clock; };
  o.sts_endpoint = sts.srv.url();
  o.env = MapEnv({{"HOME", home}, {"AWS_PROFILE", "top"}, {"AWS_EC2_METADATA_DISABLED", "true"}});
  AwsCredentialChain chain(o);
  auto c = chain.Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "ASIATOP1");
  EXPECT_EQ(c->secret_access_key, "topsecret");
  EXPECT_EQ(c->session_token, "TOPTOKEN1");
  EXPECT_EQ(c->expiration, now + 3600);
  EXPECT_NE(c->source.find("role arn:aws:iam::222222222222:role/top"), std::string::npos) << c->source;
  ASSERT_EQ(sts.calls.size(), 2u);
  // The middle role, signed by the base profile's long-term key.
  const StsCall& first = sts.calls[0];
  EXPECT_EQ(first.role_arn, "arn:aws:iam::111111111111:role/middle");
  EXPECT_EQ(first.key_id, "AKBASE");
  EXPECT_EQ(first.token, "");
  EXPECT_EQ(first.external_id, "ext-42");
  EXPECT_EQ(first.duration, "7200");
  EXPECT_EQ(first.session_name, "savoir-mid");
  EXPECT_EQ(first.region, "eu-west-3");  // the profile's region scopes the signature
  // The top role, signed by the middle role's session.
  const StsCall& second = sts.calls[1];
  EXPECT_EQ(second.role_arn, "arn:aws:iam::222222222222:role/top");
  EXPECT_EQ(second.key_id, "ASIAMID1");
  EXPECT_EQ(second.token, "MIDTOKEN1");
  EXPECT_TRUE(second.signed_headers.count("x-amz-security-token"));
  EXPECT_TRUE(second.session_name.starts_with("savoir-")) << second.session_name;
  EXPECT_TRUE(second.external_id.empty());
  // The independent signer agrees with what was sent.
  if (NodeToolsPresent()) {
    auto theirs = Aws4Authorizations(sts.calls, sts.secrets);
    ASSERT_EQ(theirs.size(), 2u);
    EXPECT_EQ(theirs[0], first.authorization);
    EXPECT_EQ(theirs[1], second.authorization);
  }
  // Cached; near the top role's expiry only it is renewed, signed by the
  // middle session still cached; near the middle one's, both are.
  clock = now + 3000;
  EXPECT_EQ(chain.Get()->access_key_id, "ASIATOP1");
  EXPECT_EQ(sts.calls.size(), 2u);
  clock = now + 3400;
  sts.roles["arn:aws:iam::222222222222:role/top"].expires = now + 7000;
  EXPECT_EQ(chain.Get()->access_key_id, "ASIATOP2");
  ASSERT_EQ(sts.calls.size(), 3u);
  EXPECT_EQ(sts.calls[2].key_id, "ASIAMID1");
  clock = now + 6950;
  sts.roles["arn:aws:iam::111111111111:role/middle"].expires = now + 14000;
  sts.roles["arn:aws:iam::222222222222:role/top"].expires = now + 10000;
  EXPECT_EQ(chain.Get()->access_key_id, "ASIATOP3");
  ASSERT_EQ(sts.calls.size(), 5u);
  EXPECT_EQ(sts.calls[3].key_id, "AKBASE");
  EXPECT_EQ(sts.calls[4].key_id, "ASIAMID2");
  // STS refusing in the refresh window: the current session (not expired)
  // keeps serving, and STS is not asked again on every call.
  clock = now + 9750;
  sts.roles.erase("arn:aws:iam::222222222222:role/top");
  size_t before = sts.calls.size();
  EXPECT_EQ(chain.Get()->access_key_id, "ASIATOP3");
  EXPECT_EQ(sts.calls.size(), before + 1);
  EXPECT_EQ(chain.Get()->access_key_id, "ASIATOP3");
  EXPECT_EQ(sts.calls.size(), before + 1);
  clock = now + 10001;  // expired: the refusal shows
  auto gone = chain.Get();
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.status().message().find("AccessDenied"), std::string::npos) << gone.status().message();
  // Without a region anywhere: STS's global endpoint scope, us-east-1.
  std::string plain = MakeHome("aws_chain_noregion",
                               "[profile r]\nrole_arn = arn:aws:iam::111111111111:role/middle\nsource_profile = base\n",
                               "[base]\naws_access_key_id = AKBASE\naws_secret_access_key = base/secret+1\n");
  o.now = [] { return std::time(nullptr); };
  o.env = MapEnv({{"HOME", plain}, {"AWS_PROFILE", "r"}, {"AWS_EC2_METADATA_DISABLED", "true"}});
  ASSERT_TRUE(AwsCredentialChain(o).Get().ok());
  EXPECT_EQ(sts.calls.back().region, "us-east-1");
  // STS refusing names the role and STS's reason, and no secret.
  o.env = MapEnv({{"HOME", plain}, {"AWS_PROFILE", "r"}, {"AWS_EC2_METADATA_DISABLED", "true"}});
  sts.roles.erase("arn:aws:iam::111111111111:role/middle");
  auto refused = AwsCredentialChain(o).Get();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().kind(), ErrorKind::kPermissionDenied);
  EXPECT_NE(refused.status().message().find("STS refused AssumeRole for arn:aws:iam::111111111111:role/middle (HTTP 403 "
                                            "AccessDenied: not authorized"),
            std::string::npos)
      << refused.status().message();
  EXPECT_EQ(refused.status().message().find("base/secret"), std::string::npos);
}

TEST(AwsProfiles, StsEndpointFromEnvironmentAndCredentialSources) {
  FakeSts sts;
  std::time_t now = std::time(nullptr);
  sts.secrets["AKENV"] = "envsecret";
  sts.secrets["ASIAECS"] = "ecssecret";
  sts.roles["arn:aws:iam::1:role/app"] = {"ASIAAPP", "appsecret", "APPTOKEN", now + 3600};
  LocalServer agent;
  agent.server.Get("/creds", [&](const httplib::Request&, httplib::Response& res) {
    Json j = {{"AccessKeyId", "ASIAECS"}, {"SecretAccessKey", "ecssecret"}, {"Token", "ECSTOKEN"},
              {"Expiration", IsoTime(now + 900)}};
    res.set_content(j.dump(), "application/json");
  });
  agent.Start();
  std::string home = MakeHome("aws_credsource",
                              "[profile fromenv]\nrole_arn = arn:aws:iam::1:role/app\ncredential_source = Environment\n"
                              "[profile fromecs]\nrole_arn = arn:aws:iam::1:role/app\ncredential_source = EcsContainer\n"
                              "[profile bogus]\nrole_arn = arn:aws:iam::1:role/app\ncredential_source = Laptop\n",
                              "");
  AwsCredentialOptions o;
  // The environment's keys are the source of the role AWS_PROFILE names.
  o.env = MapEnv({{"HOME", home}, {"AWS_PROFILE", "fromenv"}, {"AWS_ACCESS_KEY_ID", "AKENV"},
                  {"AWS_SECRET_ACCESS_KEY", "envsecret"}, {"AWS_REGION", "ap-south-1"},
                  {"AWS_ENDPOINT_URL_STS", sts.srv.url()}, {"AWS_EC2_METADATA_DISABLED", "true"}});
  auto c = AwsCredentialChain(o).Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "ASIAAPP1");
  ASSERT_EQ(sts.calls.size(), 1u);
  EXPECT_EQ(sts.calls[0].key_id, "AKENV");
  EXPECT_EQ(sts.calls[0].region, "ap-south-1");
  // The container agent's session signs for a role profile with credential_source EcsContainer.
  o.env = MapEnv({{"HOME", home}, {"AWS_PROFILE", "fromecs"}, {"AWS_CONTAINER_CREDENTIALS_FULL_URI", agent.url() + "/creds"},
                  {"AWS_ENDPOINT_URL_STS", sts.srv.url()}, {"AWS_EC2_METADATA_DISABLED", "true"}});
  c = AwsCredentialChain(o).Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "ASIAAPP2");
  ASSERT_EQ(sts.calls.size(), 2u);
  EXPECT_EQ(sts.calls[1].key_id, "ASIAECS");
  EXPECT_EQ(sts.calls[1].token, "ECSTOKEN");
  if (NodeToolsPresent()) {
    auto theirs = Aws4Authorizations(sts.calls, sts.secrets);
    ASSERT_EQ(theirs.size(), 2u);
    EXPECT_EQ(theirs[0], sts.calls[0].authorization);
    EXPECT_EQ(theirs[1], sts.calls[1].authorization);
  }
  // The option (--aws-sts-endpoint) wins over AWS_ENDPOINT_URL_STS.
  o.sts_endpoint = sts.srv.url();
  o.env = MapEnv({{"HOME", home}, {"AWS_PROFILE", "fromenv"}, {"AWS_ACCESS_KEY_ID", "AKENV"},
                  {"AWS_SECRET_ACCESS_KEY", "envsecret"}, {"AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9/"}});
  EXPECT_TRUE(AwsCredentialChain(o).Get().ok());
  o.env = MapEnv({{"HOME", home}, {"AWS_PROFILE", "bogus"}});
  auto bogus = AwsCredentialChain(o).Get();
  EXPECT_NE(bogus.status().message().find("credential_source 'Laptop'; expected Environment, Ec2InstanceMetadata or EcsContainer"),
            std::string::npos)
      << bogus.status().message();
  o.env = MapEnv({{"HOME", home}, {"AWS_PROFILE", "fromenv"}});
  EXPECT_NE(AwsCredentialChain(o).Get().status().message().find("AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not both set"),
            std::string::npos);
}

TEST(AwsProfiles, RoleConfigurationErrors) {
  FakeSts sts;
  std::time_t now = std::time(nullptr);
  sts.secrets["AKSELF"] = "selfsecret";
  sts.roles["arn:aws:iam::1:role/r"] = {"ASIAR", "rsecret", "RTOKEN", now + 3600};
  std::string home = MakeHome(
      "aws_role_errors",
      "[profile a]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = b\n"
      "[profile b]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = c\n"
      "[profile c]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = a\n"
      "[profile loopself]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = loopself\n"
      "[profile self]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = self\n"
      "[profile mfa]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = self\nmfa_serial = arn:aws:iam::1:mfa/me\n"
      "[profile both]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = self\ncredential_source = Environment\n"
      "[profile neither]\nrole_arn = arn:aws:iam::1:role/r\n"
      "[profile orphan]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = ghost\n"
      "[profile empty]\nregion = eu-west-1\n"
      "[profile fromempty]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = empty\n"
      "[profile longer]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = self\nduration_seconds = 99999\n",
      "[self]\naws_access_key_id = AKSELF\naws_secret_access_key = selfsecret\n");
  AwsCredentialOptions o;
  o.sts_endpoint = sts.srv.url();
  auto error_of = [&](const std::string& profile) {
    o.env = MapEnv({{"HOME", home}, {"AWS_PROFILE", profile}, {"AWS_EC2_METADATA_DISABLED", "true"}});
    auto c = AwsCredentialChain(o).Get();
    return c.ok() ? std::string("ok ") + c->access_key_id : c.status().message();
  };
  EXPECT_NE(error_of("a").find("loop through source_profile: a -> b -> c -> a"), std::string::npos) << error_of("a");
  EXPECT_NE(error_of("loopself").find("loop through source_profile: loopself -> loopself"), std::string::npos);
  // A profile may take its own static keys as the source of its role.
  EXPECT_EQ(error_of("self"), "ok ASIAR1");
  EXPECT_EQ(sts.calls.back().key_id, "AKSELF");
  EXPECT_NE(error_of("mfa").find("requires an MFA code (mfa_serial)"), std::string::npos);
  EXPECT_NE(error_of("both").find("sets both source_profile and credential_source"), std::string::npos);
  EXPECT_NE(error_of("neither").find("has role_arn but no source_profile, credential_source or web_identity_token_file"),
            std::string::npos);
  EXPECT_NE(error_of("orphan").find("names source_profile 'ghost', which is in neither"), std::string::npos);
  EXPECT_NE(error_of("fromempty").find("source_profile 'empty' of AWS profile 'fromempty' holds no credentials"),
            std::string::npos);
  EXPECT_NE(error_of("longer").find("duration_seconds must be 900 to 43200, got '99999'"), std::string::npos);
  EXPECT_EQ(sts.calls.size(), 1u);  // none of the broken ones reached STS
}

// ---- credential_process ----------------------------------------------------

std::string WriteScript(const std::string& path, const std::string& body) {
  std::ofstream(path) << "#!/bin/sh\n" << body;
  chmod(path.c_str(), 0755);
  return path;
}

TEST(AwsProfiles, SplitCommandLineAsAShellWould) {
  auto s = SplitCommandLine("  /opt/my\\ tool --a 'b c' \"d \\\"e\\\" $HOME\" f''g \"\" ");
  ASSERT_TRUE(s.ok());
  std::vector<std::string> want = {"/opt/my tool", "--a", "b c", "d \"e\" $HOME", "fg", ""};
  EXPECT_EQ(*s, want);
  EXPECT_FALSE(SplitCommandLine("a 'b").ok());
  EXPECT_FALSE(SplitCommandLine("a \"b").ok());
}

TEST(AwsProfiles, CredentialProcess) {
  std::string home = MakeHome("aws_process", "", "");
  std::time_t now = std::time(nullptr);
  std::string dir = home + "/bin dir";
  fs::create_directories(dir);
  std::string counter = home + "/runs";
  // Prints its second argument as the session token; counts its runs.
  WriteScript(dir + "/good helper", "echo run >> '" + counter + "'\n"
              "printf '{\"Version\": 1, \"AccessKeyId\": \"ASIAPROC\", \"SecretAccessKey\": \"procsecret\", "
              "\"SessionToken\": \"%s\", \"Expiration\": \"%s\"}' \"$2\" \"$EXPIRES\"\n");
  WriteScript(dir + "/forever", "echo '{\"Version\": 1, \"AccessKeyId\": \"AKLONG\", \"SecretAccessKey\": \"longsecret\"}'\n");
  WriteScript(dir + "/fails", "echo 'the token expired, log in again' >&2\necho '{\"Version\":1,\"AccessKeyId\":\"X\",\"SecretAccessKey\":\"leak\"}'\nexit 3\n");
  WriteScript(dir + "/hangs", "sleep 30\n");
  WriteScript(dir + "/garbage", "echo 'SecretAccessKey=leak hello'\n");
  WriteScript(dir + "/version2", "echo '{\"Version\": 2, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"leak\"}'\n");
  WriteScript(dir + "/nosecret", "echo '{\"Version\": 1, \"AccessKeyId\": \"A\"}'\n");
  WriteScript(dir + "/stale", "echo '{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"leak\", "
              "\"Expiration\": \"2001-01-01T00:00:00Z\"}'\n");
  std::ofstream(home + "/.aws/config")
      << "[default]\ncredential_process = \"" << dir << "/good helper\" --token 'tok en'\n"
      << "[profile forever]\ncredential_process = '" << dir << "/forever'\n"
      << "[profile fails]\ncredential_process = '" << dir << "/fails'\n"
      << "[profile hangs]\ncredential_process = '" << dir << "/hangs'\n"
      << "[profile garbage]\ncredential_process = '" << dir << "/garbage'\n"
      << "[profile version2]\ncredential_process = '" << dir << "/version2'\n"
      << "[profile nosecret]\ncredential_process = '" << dir << "/nosecret'\n"
      << "[profile stale]\ncredential_process = '" << dir << "/stale'\n"
      << "[profile missing]\ncredential_process = '" << dir << "/not-there' --x\n"
      << "[profile unterminated]\ncredential_process = '" << dir << "/forever\n";
  setenv("EXPIRES", IsoTime(now + 3600).c_str(), 1);  // read by the child, which inherits the real environment
  std::time_t clock = now;
  AwsCredentialOptions o;
  o.now = [&] { return clock; };
  o.process_timeout_ms = 1000;
  o.env = MapEnv({{"HOME", home}, {"AWS_EC2_METADATA_DISABLED", "true"}});
  AwsCredentialChain chain(o);
  auto c = chain.Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "ASIAPROC");
  EXPECT_EQ(c->secret_access_key, "procsecret");
  EXPECT_EQ(c->session_token, "tok en");
  EXPECT_EQ(c->expiration, now + 3600);
  EXPECT_EQ(c->source, "process " + dir + "/good helper");
  auto runs = [&] { return Shell("wc -l < '" + counter + "'"); };
  EXPECT_EQ(runs(), "1\n");
  clock = now + 3000;
  EXPECT_TRUE(chain.Get().ok());
  EXPECT_EQ(runs(), "1\n");
  clock = now + 3400;  // within 5 minutes of the Expiration: run again
  EXPECT_TRUE(chain.Get().ok());
  EXPECT_EQ(runs(), "2\n");
  auto run = [&](const std::string& profile) {
    AwsCredentialOptions p = o;
    p.now = [] { return std::time(nullptr); };
    p.env = MapEnv({{"HOME", home}, {"AWS_PROFILE", profile}, {"AWS_EC2_METADATA_DISABLED", "true"}});
    return AwsCredentialChain(p).Get();
  };
  auto forever = run("forever");
  ASSERT_TRUE(forever.ok()) << forever.status().ToString();
  EXPECT_EQ(forever->expiration, 0);
  EXPECT_EQ(forever->session_token, "");
  struct Bad {
    std::string profile;
    ErrorKind kind;
    std::string says;
  };
  for (const Bad& b : std::vector<Bad>{
           {"fails", ErrorKind::kPermissionDenied, "'" + dir + "/fails' exited with status 3: the token expired, log in again"},
           {"hangs", ErrorKind::kTimeout, "'" + dir + "/hangs' did not finish within 1 s (killed)"},
           {"garbage", ErrorKind::kInvalidArgument, "printed no JSON object"},
           {"version2", ErrorKind::kInvalidArgument, "printed JSON without \"Version\": 1"},
           {"nosecret", ErrorKind::kInvalidArgument, "printed no AccessKeyId / SecretAccessKey"},
           {"stale", ErrorKind::kPermissionDenied, "returned credentials that expired at 2001-01-01T00:00:00Z"},
           {"missing", ErrorKind::kNotFound, "cannot run '" + dir + "/not-there': No such file or directory"},
           {"unterminated", ErrorKind::kInvalidArgument, "unterminated '"}}) {
    auto r = run(b.profile);
    ASSERT_FALSE(r.ok()) << b.profile;
    EXPECT_EQ(r.status().kind(), b.kind) << b.profile << ": " << r.status().ToString();
    EXPECT_NE(r.status().message().find("credential_process of AWS profile '" + b.profile + "'"), std::string::npos)
        << r.status().message();
    EXPECT_NE(r.status().message().find(b.says), std::string::npos) << r.status().message();
    EXPECT_EQ(r.status().message().find("leak"), std::string::npos) << r.status().message();
  }
  unsetenv("EXPIRES");
}

// ---- SSO -------------------------------------------------------------------

TEST(AwsProfiles, SsoSessionAndLegacyProfiles) {
  LocalServer portal;
  std::atomic<int> calls{0};
  std::time_t now = std::time(nullptr);
  portal.server.Get("/federation/credentials", [&](const httplib::Request& req, httplib::Response& res) {
    ++calls;
    std::string token = req.get_header_value("x-amz-sso_bearer_token");
    if (token != "session-token" && token != "legacy-token") {
      res.status = 401;
      res.set_content("{\"message\":\"Session token not found or invalid\"}", "application/json");
      return;
    }
    if (req.get_param_value("account_id") != "123456789012" || req.get_param_value("role_name") != "Reader Role") {
      res.status = 403;
      res.set_content("{\"message\":\"No access\"}", "application/json");
      return;
    }
    Json j = {{"roleCredentials",
               {{"accessKeyId", token == "session-token" ? "ASIASSO" : "ASIALEGACY"}, {"secretAccessKey", "ssosecret"},
                {"sessionToken", "SSOSESSION"}, {"expiration", (static_cast<int64_t>(now) + 3600) * 1000}}}};
    res.set_content(j.dump(), "application/json");
  });
  std::atomic<int> token_calls{0};
  portal.server.Post("/token", [&](const httplib::Request& req, httplib::Response& res) {
    ++token_calls;
    Json b = Json::parse(req.body, nullptr, false);
    if (!b.is_object() || b.value("grantType", "") != "refresh_token" || b.value("clientId", "") != "cid" ||
        b.value("clientSecret", "") != "csecret") {
      res.status = 400;
      res.set_content("{\"error\":\"invalid_client\"}", "application/json");
      return;
    }
    if (b.value("refreshToken", "") != "rt") {
      res.status = 400;
      res.set_content("{\"error\":\"invalid_grant\",\"error_description\":\"Invalid refresh token provided\"}",
                      "application/json");
      return;
    }
    res.set_content("{\"accessToken\":\"session-token\",\"expiresIn\":28800,\"refreshToken\":\"rt2\",\"tokenType\":\"Bearer\"}",
                    "application/json");
  });
  portal.Start();
  const std::string legacy_url = "https://legacy.awsapps.com/start";
  std::string home = MakeHome("aws_sso",
                              "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\n"
                              "sso_role_name = Reader Role\nregion = eu-west-3\n"
                              "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n"
                              "sso_registration_scopes = sso:account:access\n"
                              "[profile old]\nsso_start_url = " + legacy_url + "\nsso_region = us-east-1\n"
                              "sso_account_id = 123456789012\nsso_role_name = Reader Role\n"
                              "[profile halfdone]\nsso_session = corp\nsso_account_id = 123456789012\n"
                              "[profile nosession]\nsso_session = gone\nsso_account_id = 1\nsso_role_name = r\n",
                              "");
  fs::create_directories(home + "/.aws/sso/cache");
  // The cache file names, as the AWS CLI makes them: SHA-1 of the session
  // name (sso_session profiles) or of the start URL (legacy profiles).
  auto sha1 = [](const std::string& s) { return Shell("printf %s '" + s + "' | sha1sum | cut -c1-40 | tr -d '\\n'"); };
  std::string session_file = home + "/.aws/sso/cache/" + sha1("corp") + ".json";
  std::string legacy_file = home + "/.aws/sso/cache/" + sha1(legacy_url) + ".json";
  auto write_token = [](const std::string& file, const std::string& token, const std::string& expires) {
    Json j = {{"startUrl", "https://corp.awsapps.com/start"}, {"region", "eu-west-1"}, {"accessToken", token},
              {"expiresAt", expires}, {"clientId", "cid"}, {"clientSecret", "csecret"}, {"refreshToken", "rt"}};
    std::ofstream(file) << j.dump();
  };
  write_token(session_file, "session-token", IsoTime(now + 8 * 3600));
  write_token(legacy_file, "legacy-token", IsoTime(now + 3600).substr(0, 19) + "UTC");  // CLI v1's format
  AwsCredentialOptions o;
  std::time_t clock = now;
  o.now = [&] { return clock; };
  o.env = MapEnv({{"HOME", home}, {"AWS_PROFILE", "dev"}, {"AWS_ENDPOINT_URL_SSO", portal.url()},
                  {"AWS_EC2_METADATA_DISABLED", "true"}});
  AwsCredentialChain chain(o);
  auto c = chain.Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "ASIASSO");
  EXPECT_EQ(c->secret_access_key, "ssosecret");
  EXPECT_EQ(c->session_token, "SSOSESSION");
  EXPECT_EQ(c->expiration, now + 3600);
  EXPECT_EQ(c->source, "sso 123456789012 role Reader Role");
  EXPECT_EQ(chain.Get()->access_key_id, "ASIASSO");
  EXPECT_EQ(calls.load(), 1);
  clock = now + 3500;
  EXPECT_TRUE(chain.Get().ok());
  EXPECT_EQ(calls.load(), 2);
  o.now = [] { return std::time(nullptr); };
  auto run = [&](const std::string& profile) {
    o.env = MapEnv({{"HOME", home}, {"AWS_PROFILE", profile}, {"AWS_ENDPOINT_URL_SSO", portal.url()},
                    {"AWS_ENDPOINT_URL_SSO_OIDC", portal.url()}, {"AWS_EC2_METADATA_DISABLED", "true"}});
    return AwsCredentialChain(o).Get();
  };
  auto legacy = run("old");
  ASSERT_TRUE(legacy.ok()) << legacy.status().ToString();
  EXPECT_EQ(legacy->access_key_id, "ASIALEGACY");
  // An expired token, a refused one, a missing one: each says how to log in again.
  write_token(session_file, "session-token", IsoTime(now - 60));
  auto expired = run("dev");
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.status().kind(), ErrorKind::kPermissionDenied);
  EXPECT_NE(expired.status().message().find("the SSO token expired at " + IsoTime(now - 60) +
                                            "; run `aws sso login --profile dev`"),
            std::string::npos)
      << expired.status().message();
  EXPECT_EQ(token_calls.load(), 0);  // no refresh token cached: nothing to renew with
  // With a refresh token and a live client registration, an expiring token
  // is renewed (SSO OIDC CreateToken) and the cache rewritten, privately.
  auto renewable = [&](const std::string& refresh_token) {
    Json j = {{"startUrl", "https://corp.awsapps.com/start"}, {"region", "eu-west-1"}, {"accessToken", "old-token"},
              {"expiresAt", IsoTime(now - 60)}, {"clientId", "cid"}, {"clientSecret", "csecret"},
              {"refreshToken", refresh_token}, {"registrationExpiresAt", IsoTime(now + 30 * 86400)}};
    std::ofstream(session_file) << j.dump();
  };
  renewable("rt");
  auto renewed = run("dev");
  ASSERT_TRUE(renewed.ok()) << renewed.status().ToString();
  EXPECT_EQ(renewed->access_key_id, "ASIASSO");
  EXPECT_EQ(token_calls.load(), 1);
  Json rewritten = Json::parse(std::ifstream(session_file), nullptr, false);
  ASSERT_TRUE(rewritten.is_object());
  EXPECT_EQ(rewritten["accessToken"], "session-token");
  EXPECT_EQ(rewritten["refreshToken"], "rt2");
  EXPECT_EQ(rewritten["clientId"], "cid");
  EXPECT_GE(ParseIso8601(rewritten["expiresAt"]), now + 28800 - 5);
  EXPECT_EQ(fs::status(session_file).permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  renewable("revoked-refresh");
  auto not_renewed = run("dev");
  ASSERT_FALSE(not_renewed.ok());
  EXPECT_NE(not_renewed.status().message().find("(renewing it failed: SSO OIDC CreateToken answered HTTP 400 invalid_grant); "
                                                "run `aws sso login --profile dev`"),
            std::string::npos)
      << not_renewed.status().message();
  EXPECT_EQ(not_renewed.status().message().find("revoked-refresh"), std::string::npos);
  write_token(session_file, "revoked-token", IsoTime(now + 3600));
  auto revoked = run("dev");
  EXPECT_NE(revoked.status().message().find("the SSO portal refused the cached token (HTTP 401: Session token not found or "
                                            "invalid); run `aws sso login --profile dev`"),
            std::string::npos)
      << revoked.status().message();
  EXPECT_EQ(revoked.status().message().find("revoked-token"), std::string::npos);
  fs::remove(legacy_file);
  auto missing = run("old");
  EXPECT_NE(missing.status().message().find("no SSO token cached"), std::string::npos) << missing.status().message();
  EXPECT_NE(missing.status().message().find("run `aws sso login --profile old`"), std::string::npos);
  EXPECT_NE(run("halfdone").status().message().find("lacks sso_role_name"), std::string::npos);
  EXPECT_NE(run("nosession").status().message().find("has no [sso-session gone] section"), std::string::npos);
}

// ---- Caching under threads ---------------------------------------------------

TEST(AwsProfiles, OneRefreshForManyThreadsAndOldCredentialsServeMeanwhile) {
  LocalServer imds;
  std::atomic<int> fetches{0};
  std::atomic<bool> entered{false};
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> hold{false}, fail{false};
  std::atomic<std::time_t> expires{std::time(nullptr) + 3600};
  imds.server.Put("/latest/api/token", [](const httplib::Request&, httplib::Response& res) { res.set_content("T", "text/plain"); });
  imds.server.Get("/latest/meta-data/iam/security-credentials/",
                  [](const httplib::Request&, httplib::Response& res) { res.set_content("role", "text/plain"); });
  imds.server.Get("/latest/meta-data/iam/security-credentials/role", [&](const httplib::Request&, httplib::Response& res) {
    int n = ++fetches;
    entered = true;
    if (fail) {
      res.status = 500;
      return;
    }
    if (hold) released.wait_for(std::chrono::seconds(10));
    else std::this_thread::sleep_for(std::chrono::milliseconds(200));
    Json j = {{"Code", "Success"}, {"AccessKeyId", "ASIA" + std::to_string(n)}, {"SecretAccessKey", "s"},
              {"Token", "t"}, {"Expiration", IsoTime(expires)}};
    res.set_content(j.dump(), "application/json");
  });
  imds.Start();
  std::time_t now = std::time(nullptr);
  std::atomic<std::time_t> clock{now};
  AwsCredentialOptions o;
  o.now = [&] { return clock.load(); };
  o.metadata_timeout_ms = 15000;
  o.env = MapEnv({{"HOME", "/nonexistent"}, {"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url()}});
  AwsCredentialChain chain(o);
  // Eight threads asking at once: one fetch, all get its answer.
  std::vector<std::thread> threads;
  std::vector<std::string> got(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto c = chain.Get();
      got[i] = c.ok() ? c->access_key_id : c.status().message();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(fetches.load(), 1);
  for (const auto& g : got) EXPECT_EQ(g, "ASIA1");
  // In the refresh window, while one thread is stuck refreshing, the others
  // are served the current (unexpired) credentials at once.
  clock = now + 3500;
  expires = now + 7200;
  hold = true;
  entered = false;
  std::thread refresher([&] { EXPECT_EQ(chain.Get()->access_key_id, "ASIA2"); });
  while (!entered) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto meanwhile = chain.Get();
  release.set_value();
  refresher.join();
  ASSERT_TRUE(meanwhile.ok());
  EXPECT_EQ(meanwhile->access_key_id, "ASIA1");
  EXPECT_EQ(fetches.load(), 2);
  EXPECT_EQ(chain.Get()->access_key_id, "ASIA2");
  // A failed refresh keeps serving unexpired credentials, and is not
  // retried on every call meanwhile; once they expire, the error shows.
  fail = true;
  clock = now + 7000;  // in ASIA2's refresh window
  int before = fetches.load();
  auto still = chain.Get();
  ASSERT_TRUE(still.ok()) << still.status().ToString();
  EXPECT_EQ(still->access_key_id, "ASIA2");
  int after_first = fetches.load();
  EXPECT_GT(after_first, before);
  EXPECT_EQ(chain.Get()->access_key_id, "ASIA2");
  EXPECT_EQ(fetches.load(), after_first);  // no new try within failed_refresh_retry_s
  clock = now + 7000 + o.failed_refresh_retry_s + 1;
  EXPECT_EQ(chain.Get()->access_key_id, "ASIA2");
  EXPECT_GT(fetches.load(), after_first);
  clock = now + 7201;
  auto expired = chain.Get();
  ASSERT_FALSE(expired.ok());
  EXPECT_NE(expired.status().message().find("instance metadata"), std::string::npos) << expired.status().message();
}

}  // namespace
}  // namespace savoir
