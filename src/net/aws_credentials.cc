#include "net/aws_credentials.h"

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

namespace savoir {
namespace {

std::string Trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  size_t b = s.find_last_not_of(" \t\r\n");
  return s.substr(a, b - a + 1);
}

std::string EnvOr(const EnvLookup& env, const std::string& name, const std::string& fallback = "") {
  auto v = env(name);
  return v && !v->empty() ? *v : fallback;
}

std::string HomeFile(const EnvLookup& env, const std::string& override_var, const std::string& rel) {
  std::string path = EnvOr(env, override_var);
  if (path.empty()) return EnvOr(env, "HOME") + "/" + rel;
  if (path.starts_with("~/")) path = EnvOr(env, "HOME") + path.substr(1);
  return path;
}

// Sections of an INI file: name -> key -> value.
std::map<std::string, std::map<std::string, std::string>> ReadIni(const std::string& path) {
  std::map<std::string, std::map<std::string, std::string>> out;
  std::ifstream in(path);
  std::string line, section;
  bool in_section = false;
  while (std::getline(in, line)) {
    line = Trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line[0] == '[') {
      size_t close = line.find(']');
      section = Trim(line.substr(1, close == std::string::npos ? std::string::npos : close - 1));
      in_section = true;
      out[section];
      continue;
    }
    size_t eq = line.find('=');
    if (!in_section || eq == std::string::npos) continue;
    std::string key = Trim(line.substr(0, eq));
    for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out[section][key] = Trim(line.substr(eq + 1));
  }
  return out;
}

std::string ReadFileText(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  *ok = static_cast<bool>(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const pugi::xml_node FindNode(const pugi::xml_node& root, const char* name) {
  for (pugi::xml_node child : root.children()) {
    if (std::string(child.name()) == name) return child;
    if (pugi::xml_node found = FindNode(child, name)) return found;
  }
  return pugi::xml_node();
}

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += AwsUriEncode(k, false) + "=" + AwsUriEncode(v, false);
  }
  return out;
}

std::string TrimSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

std::time_t ParseIso8601(const std::string& s) {
  std::tm tm{};
  int year, mon, day, hour, min, sec;
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d", &year, &mon, &day, &hour, &min, &sec) != 6) return 0;
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  return timegm(&tm);
}

std::map<std::string, std::string> LoadAwsProfile(const EnvLookup& env, const std::string& profile) {
  std::map<std::string, std::string> out;
  auto config = ReadIni(HomeFile(env, "AWS_CONFIG_FILE", ".aws/config"));
  for (const std::string& section : {profile == "default" ? std::string("default") : "", "profile " + profile}) {
    if (section.empty()) continue;
    if (auto it = config.find(section); it != config.end()) {
      for (const auto& [k, v] : it->second) out[k] = v;
    }
  }
  // The credentials file wins over the config file.
  auto credentials = ReadIni(HomeFile(env, "AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials"));
  if (auto it = credentials.find(profile); it != credentials.end()) {
    for (const auto& [k, v] : it->second) out[k] = v;
  }
  return out;
}

Result<std::string> ResolveAwsRegion(const std::string& configured, const EnvLookup& env) {
  if (!configured.empty()) return configured;
  for (const char* var : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
    if (std::string v = EnvOr(env, var); !v.empty()) return v;
  }
  std::string profile = EnvOr(env, "AWS_PROFILE", "default");
  auto p = LoadAwsProfile(env, profile);
  if (auto it = p.find("region"); it != p.end() && !it->second.empty()) return it->second;
  return Status(ErrorKind::kInvalidArgument,
                "no AWS region: set --aws-region, AWS_REGION, AWS_DEFAULT_REGION or region in profile '" +
                    profile + "'");
}

AwsCredentialChain::AwsCredentialChain(AwsCredentialOptions options)
    : opt_(std::move(options)),
      sts_([] {
        HttpOptions o;
        o.max_attempts = 3;
        o.timeout_ms = 20000;
        o.requests_per_minute = 0;
        o.user_agent = "savoir/0.1";
        return o;
      }()),
      imds_([this] {
        HttpOptions o;
        o.connect_timeout_ms = opt_.metadata_timeout_ms;
        o.timeout_ms = opt_.metadata_timeout_ms * 2;
        o.max_attempts = 2;
        o.backoff_base_ms = 100;
        o.requests_per_minute = 0;
        o.user_agent = "savoir/0.1";
        return o;
      }()) {}

void AwsCredentialChain::Invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  cached_.reset();
}

Result<AwsCredentials> AwsCredentialChain::Get() {
  std::lock_guard<std::mutex> lock(mu_);
  std::time_t now = opt_.now();
  if (cached_ && (cached_->expiration == 0 || now + opt_.refresh_before_s < cached_->expiration)) return *cached_;
  Result<AwsCredentials> fresh = Resolve();
  if (!fresh.ok()) {
    // A failed refresh keeps serving credentials that have not expired yet.
    if (cached_ && now < cached_->expiration) return *cached_;
    return fresh.status();
  }
  cached_ = fresh.value();
  return fresh;
}

Result<AwsCredentials> AwsCredentialChain::Resolve() {
  const EnvLookup& env = opt_.env;
  std::vector<std::string> tried;
  // 1. Environment.
  std::string key = EnvOr(env, "AWS_ACCESS_KEY_ID"), secret = EnvOr(env, "AWS_SECRET_ACCESS_KEY");
  if (!key.empty() || !secret.empty()) {
    if (key.empty() || secret.empty()) {
      return Status(ErrorKind::kPermissionDenied,
                    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must both be set (only one is)");
    }
    AwsCredentials c{key, secret, EnvOr(env, "AWS_SESSION_TOKEN"), 0, "environment"};
    return c;
  }
  tried.push_back("environment (AWS_ACCESS_KEY_ID unset)");
  // 2. Shared credentials / config files.
  std::string profile_name = EnvOr(env, "AWS_PROFILE", "default");
  auto profile = LoadAwsProfile(env, profile_name);
  const bool profile_found = !profile.empty();
  if (!profile["aws_access_key_id"].empty() || !profile["aws_secret_access_key"].empty()) {
    if (profile["aws_access_key_id"].empty() || profile["aws_secret_access_key"].empty()) {
      return Status(ErrorKind::kPermissionDenied, "AWS profile '" + profile_name +
                                                      "' has only one of aws_access_key_id / aws_secret_access_key");
    }
    AwsCredentials c{profile["aws_access_key_id"], profile["aws_secret_access_key"], profile["aws_session_token"], 0,
                     "profile " + profile_name};
    return c;
  }
  if (!profile["role_arn"].empty() && !profile["web_identity_token_file"].empty()) {
    return FromWebIdentity(profile["web_identity_token_file"], profile["role_arn"], profile["role_session_name"]);
  }
  if (EnvOr(env, "AWS_PROFILE").empty() || profile_found) {
    tried.push_back("shared files (no keys in profile '" + profile_name + "')");
  } else {
    return Status(ErrorKind::kPermissionDenied, "AWS_PROFILE names profile '" + profile_name +
                                                    "', which is in neither the credentials nor the config file");
  }
  // 3. Web identity.
  std::string token_file = EnvOr(env, "AWS_WEB_IDENTITY_TOKEN_FILE"), role = EnvOr(env, "AWS_ROLE_ARN");
  if (!token_file.empty() && !role.empty()) {
    return FromWebIdentity(token_file, role, EnvOr(env, "AWS_ROLE_SESSION_NAME"));
  }
  tried.push_back("web identity (AWS_WEB_IDENTITY_TOKEN_FILE / AWS_ROLE_ARN unset)");
  // 4. Container credentials.
  std::string relative = EnvOr(env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
              full = EnvOr(env, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
  if (!relative.empty()) return FromContainer("http://169.254.170.2" + relative);
  if (!full.empty()) return FromContainer(full);
  tried.push_back("container (AWS_CONTAINER_CREDENTIALS_*_URI unset)");
  // 5. Instance metadata.
  std::string disabled = EnvOr(env, "AWS_EC2_METADATA_DISABLED");
  if (disabled == "true" || disabled == "TRUE" || disabled == "1") {
    tried.push_back("instance metadata (AWS_EC2_METADATA_DISABLED)");
  } else {
    Result<AwsCredentials> imds = FromInstanceMetadata();
    if (imds.ok()) return imds;
    tried.push_back("instance metadata (" + imds.status().message() + ")");
  }
  std::string msg = "no AWS credentials found; tried ";
  for (size_t i = 0; i < tried.size(); ++i) msg += (i ? ", " : "") + tried[i];
  return Status(ErrorKind::kPermissionDenied, msg);
}

Result<AwsCredentials> AwsCredentialChain::FromWebIdentity(const std::string& token_file, const std::string& role_arn,
                                                           const std::string& session_name) {
  bool ok = false;
  std::string token = Trim(ReadFileText(token_file, &ok));
  if (!ok || token.empty()) {
    return Status(ErrorKind::kPermissionDenied, "cannot read the web identity token file " + token_file);
  }
  std::string endpoint = EnvOr(opt_.env, "AWS_ENDPOINT_URL_STS", EnvOr(opt_.env, "AWS_ENDPOINT_URL"));
  if (endpoint.empty()) {
    std::string region = opt_.region.empty() ? EnvOr(opt_.env, "AWS_REGION", EnvOr(opt_.env, "AWS_DEFAULT_REGION"))
                                             : opt_.region;
    endpoint = region.empty() ? "https://sts.amazonaws.com" : "https://sts." + region + ".amazonaws.com";
  }
  HttpRequest req;
  req.method = "POST";
  req.url = TrimSlash(endpoint) + "/";
  req.headers = {"Content-Type: application/x-www-form-urlencoded; charset=utf-8", "Accept: application/xml"};
  req.body = FormEncode({{"Action", "AssumeRoleWithWebIdentity"},
                         {"Version", "2011-06-15"},
                         {"RoleArn", role_arn},
                         {"RoleSessionName", session_name.empty() ? "savoir-" + std::to_string(opt_.now()) : session_name},
                         {"WebIdentityToken", token}});
  auto resp = sts_.Send(req);
  if (!resp.ok()) {
    return Status(resp.status().kind(), "STS AssumeRoleWithWebIdentity for " + role_arn + ": " + resp.status().message());
  }
  pugi::xml_document doc;
  doc.load_string(resp->body.c_str());
  if (resp->status != 200) {
    std::string code = FindNode(doc, "Code").text().get(), message = FindNode(doc, "Message").text().get();
    return Status(ErrorKind::kPermissionDenied, "STS refused AssumeRoleWithWebIdentity for " + role_arn + " (HTTP " +
                                                    std::to_string(resp->status) + (code.empty() ? "" : " " + code) +
                                                    (message.empty() ? "" : ": " + message) + ")");
  }
  pugi::xml_node creds = FindNode(doc, "Credentials");
  AwsCredentials c{creds.child("AccessKeyId").text().get(), creds.child("SecretAccessKey").text().get(),
                   creds.child("SessionToken").text().get(), ParseIso8601(creds.child("Expiration").text().get()),
                   "web identity " + role_arn};
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return Status(ErrorKind::kUnavailable, "STS AssumeRoleWithWebIdentity answered without credentials");
  }
  return c;
}

Result<AwsCredentials> AwsCredentialChain::FromContainer(const std::string& url) {
  // As the SDKs do: plain http only to the container agent or this machine.
  if (!url.starts_with("https://")) {
    bool allowed = false;
    for (const char* host : {"http://169.254.170.2", "http://169.254.170.23", "http://127.", "http://localhost",
                             "http://[::1]", "http://[fd00:ec2::23]"}) {
      if (url.starts_with(host)) {
        size_t rest = std::string(host).size();
        allowed = std::string(host).back() == '.' || rest == url.size() || url[rest] == ':' || url[rest] == '/';
        if (allowed) break;
      }
    }
    if (!allowed) {
      return Status(ErrorKind::kPermissionDenied, "container credentials URL " + UrlWithoutQuery(url) +
                                                      " must be https or a loopback / container agent address");
    }
  }
  std::vector<std::string> headers;
  std::string token = EnvOr(opt_.env, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
  if (std::string file = EnvOr(opt_.env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); !file.empty()) {
    bool ok = false;
    token = Trim(ReadFileText(file, &ok));
    if (!ok) return Status(ErrorKind::kPermissionDenied, "cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " + file);
  }
  if (!token.empty()) headers.push_back("Authorization: " + token);
  auto resp = imds_.Get(url, headers);
  if (!resp.ok()) return Status(resp.status().kind(), "container credentials: " + resp.status().message());
  if (resp->status != 200) {
    return Status(ErrorKind::kPermissionDenied, "container credentials endpoint " + UrlWithoutQuery(url) +
                                                    " answered HTTP " + std::to_string(resp->status));
  }
  auto j = nlohmann::json::parse(resp->body, nullptr, false);
  AwsCredentials c;
  if (j.is_object()) {
    c = {j.value("AccessKeyId", ""), j.value("SecretAccessKey", ""), j.value("Token", ""),
         ParseIso8601(j.value("Expiration", "")), "container " + j.value("RoleArn", std::string("role"))};
  }
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return Status(ErrorKind::kUnavailable, "container credentials endpoint returned no usable credentials");
  }
  return c;
}

Result<AwsCredentials> AwsCredentialChain::FromInstanceMetadata() {
  std::string base = TrimSlash(EnvOr(opt_.env, "AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://169.254.169.254"));
  HttpRequest put;
  put.method = "PUT";
  put.url = base + "/latest/api/token";
  put.headers = {"X-aws-ec2-metadata-token-ttl-seconds: 21600"};
  auto token = imds_.Send(put);
  if (!token.ok()) return token.status();
  if (token->status != 200) {
    return Status(ErrorKind::kUnavailable, "IMDSv2 token request answered HTTP " + std::to_string(token->status));
  }
  std::vector<std::string> auth = {"X-aws-ec2-metadata-token: " + Trim(token->body)};
  std::string path = base + "/latest/meta-data/iam/security-credentials/";
  auto role = imds_.Get(path, auth);
  if (!role.ok()) return role.status();
  if (role->status == 404) return Status(ErrorKind::kNotFound, "the instance has no IAM role attached");
  if (role->status != 200) {
    return Status(ErrorKind::kUnavailable, "IMDS role name request answered HTTP " + std::to_string(role->status));
  }
  std::string role_name = Trim(role->body.substr(0, role->body.find('\n')));
  if (role_name.empty()) return Status(ErrorKind::kNotFound, "the instance has no IAM role attached");
  auto creds = imds_.Get(path + role_name, auth);
  if (!creds.ok()) return creds.status();
  if (creds->status != 200) {
    return Status(ErrorKind::kUnavailable, "IMDS credentials request for role " + role_name + " answered HTTP " +
                                               std::to_string(creds->status));
  }
  auto j = nlohmann::json::parse(creds->body, nullptr, false);
  if (!j.is_object() || j.value("Code", "Success") != "Success") {
    return Status(ErrorKind::kUnavailable, "IMDS returned no usable credentials for role " + role_name);
  }
  AwsCredentials c{j.value("AccessKeyId", ""), j.value("SecretAccessKey", ""), j.value("Token", ""),
                   ParseIso8601(j.value("Expiration", "")), "instance role " + role_name};
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return Status(ErrorKind::kUnavailable, "IMDS returned no usable credentials for role " + role_name);
  }
  return c;
}

}  // namespace savoir
