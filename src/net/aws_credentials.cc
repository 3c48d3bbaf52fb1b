#include "net/aws_credentials.h"

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include <fcntl.h>
#include <openssl/sha.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <fstream>
#include <map>
#include <sstream>
#include <vector>

#include "common/json_read.h"

extern char** environ;

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

std::string Sha1Hex(const std::string& s) {
  unsigned char d[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), d);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(d), sizeof d));
}

std::string IsoUtc(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool HasStaticKeys(const std::map<std::string, std::string>& p) {
  auto has = [&](const char* k) {
    auto it = p.find(k);
    return it != p.end() && !it->second.empty();
  };
  return has("aws_access_key_id") || has("aws_secret_access_key");
}

std::string Key(const std::map<std::string, std::string>& p, const std::string& k) {
  auto it = p.find(k);
  return it == p.end() ? "" : it->second;
}

Result<AwsCredentials> StaticKeys(const std::string& name, const std::map<std::string, std::string>& p) {
  if (Key(p, "aws_access_key_id").empty() || Key(p, "aws_secret_access_key").empty()) {
    return Status(ErrorKind::kPermissionDenied,
                  "AWS profile '" + name + "' has only one of aws_access_key_id / aws_secret_access_key");
  }
  return AwsCredentials{Key(p, "aws_access_key_id"), Key(p, "aws_secret_access_key"), Key(p, "aws_session_token"), 0,
                        "profile " + name};
}

Result<std::optional<AwsCredentials>> Some(Result<AwsCredentials> r) {
  if (!r.ok()) return r.status();
  return std::optional<AwsCredentials>(std::move(r.value()));
}

// The message of an AWS JSON error body, else its start.
std::string AwsJsonMessage(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object()) {
    for (const char* k : {"message", "Message"}) {
      if (j.contains(k) && j[k].is_string()) return j[k].get<std::string>();
    }
  }
  std::string said = body.substr(0, 200);
  for (char& c : said)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  return said;
}

std::string JoinChain(const std::vector<std::string>& names, const std::string& last) {
  std::string out;
  for (const auto& n : names) out += n + " -> ";
  return out + last;
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

std::map<std::string, std::string> LoadAwsConfigSection(const EnvLookup& env, const std::string& section) {
  auto config = ReadIni(HomeFile(env, "AWS_CONFIG_FILE", ".aws/config"));
  auto it = config.find(section);
  return it == config.end() ? std::map<std::string, std::string>{} : it->second;
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

Result<std::vector<std::string>> SplitCommandLine(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (in_word) out.push_back(cur);
      cur.clear();
      in_word = false;
    } else if (c == '\'') {
      size_t close = line.find('\'', i + 1);
      if (close == std::string::npos) return Status(ErrorKind::kInvalidArgument, "unterminated ' in the command line");
      cur += line.substr(i + 1, close - i - 1);
      i = close;
      in_word = true;
    } else if (c == '"') {
      size_t j = i + 1;
      for (; j < line.size() && line[j] != '"'; ++j) {
        // Inside double quotes a backslash escapes only these.
        if (line[j] == '\\' && j + 1 < line.size() && std::strchr("\"\\$`\n", line[j + 1])) ++j;
        cur += line[j];
      }
      if (j >= line.size()) return Status(ErrorKind::kInvalidArgument, "unterminated \" in the command line");
      i = j;
      in_word = true;
    } else if (c == '\\') {
      if (i + 1 < line.size()) cur += line[++i];
      in_word = true;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (in_word) out.push_back(cur);
  return out;
}

Result<ProcessOutput> RunProcess(const std::vector<std::string>& argv, int timeout_ms, size_t max_output) {
  if (argv.empty()) return Status(ErrorKind::kInvalidArgument, "empty command");
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return Status(ErrorKind::kInternal, std::string("pipe: ") + std::strerror(errno));
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return Status(ErrorKind::kInternal, std::string("pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group, so a timeout kills whatever it started too.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    close(err_pipe[0]);
    return Status(ErrorKind::kNotFound, "cannot run '" + argv[0] + "': " + std::strerror(rc));
  }
  ProcessOutput result;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  bool timed_out = false, too_big = false;
  while (open_fds > 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    int n = poll(fds, 2, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[4096];
      ssize_t got = read(fds[i].fd, buf, sizeof buf);
      if (got > 0) {
        if (sinks[i]->size() + static_cast<size_t>(got) > max_output) too_big = true;
        else sinks[i]->append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
    if (too_big) break;
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  int status = 0;
  if (timed_out || too_big) {
    kill(-pid, SIGKILL);
    waitpid(pid, &status, 0);
    if (timed_out) {
      char secs[32];
      std::snprintf(secs, sizeof secs, "%g", timeout_ms / 1000.0);
      return Status(ErrorKind::kTimeout, "'" + argv[0] + "' did not finish within " + secs + " s (killed)");
    }
    return Status(ErrorKind::kInvalidArgument, "'" + argv[0] + "' wrote more than " + std::to_string(max_output) + " bytes");
  }
  // Output closed: the process is ending (or closed its output and lingers).
  while (true) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      return Status(ErrorKind::kTimeout, "'" + argv[0] + "' closed its output but did not exit (killed)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return result;
}

AwsCredentialChain::AwsCredentialChain(AwsCredentialOptions options)
    : opt_(std::move(options)),
      sts_([] {
        HttpOptions o;
        o.max_attempts = 3;
        o.timeout_ms = 20000;
        o.idle_timeout_ms = 10000;
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
      }()),
      sso_([] {
        HttpOptions o;
        o.max_attempts = 3;
        o.timeout_ms = 20000;
        o.idle_timeout_ms = 10000;
        o.requests_per_minute = 0;
        o.user_agent = "savoir/0.1";
        return o;
      }()) {}

void AwsCredentialChain::Invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  cached_.reset();
  links_.clear();
  retry_at_ = 0;
}

bool AwsCredentialChain::Fresh(const AwsCredentials& c, std::time_t now) const {
  return c.expiration == 0 || now + opt_.refresh_before_s < c.expiration;
}

Result<AwsCredentials> AwsCredentialChain::Get() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cached_ && Fresh(*cached_, opt_.now())) return *cached_;
  }
  // One thread refreshes; meanwhile the others keep using credentials that
  // have not expired yet instead of queueing behind it.
  std::unique_lock<std::mutex> refresh(refresh_mu_, std::try_to_lock);
  if (!refresh.owns_lock()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (cached_ && opt_.now() < cached_->expiration) return *cached_;
    }
    refresh.lock();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::time_t now = opt_.now();
    if (cached_ && Fresh(*cached_, now)) return *cached_;  // refreshed while we waited
    // A refresh failed a moment ago: no new try yet while the old ones serve.
    if (cached_ && now < cached_->expiration && now < retry_at_) return *cached_;
  }
  Result<AwsCredentials> fresh = Resolve();
  std::lock_guard<std::mutex> lock(mu_);
  std::time_t now = opt_.now();
  if (!fresh.ok()) {
    // A failed refresh keeps serving credentials that have not expired yet.
    if (cached_ && now < cached_->expiration) {
      retry_at_ = now + opt_.failed_refresh_retry_s;
      return *cached_;
    }
    return fresh.status();
  }
  cached_ = fresh.value();
  // Still due for refresh (a link served its old credentials because its
  // refresh failed): try again later, not on every call.
  retry_at_ = Fresh(*cached_, now) ? 0 : now + opt_.failed_refresh_retry_s;
  return fresh;
}

Result<AwsCredentials> AwsCredentialChain::Cached(const std::string& key,
                                                  const std::function<Result<AwsCredentials>()>& fetch) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = links_.find(key);
    if (it != links_.end() && Fresh(it->second, opt_.now())) return it->second;
  }
  Result<AwsCredentials> c = fetch();
  std::lock_guard<std::mutex> lock(mu_);
  if (c.ok()) {
    links_[key] = *c;
  } else if (auto it = links_.find(key); it != links_.end() && opt_.now() < it->second.expiration) {
    return it->second;  // not expired yet: serves while the refresh fails
  }
  return c;
}

Result<AwsCredentials> AwsCredentialChain::Resolve() {
  const EnvLookup& env = opt_.env;
  std::vector<std::string> tried;
  std::string profile_name = EnvOr(env, "AWS_PROFILE", "default");
  auto profile = LoadAwsProfile(env, profile_name);
  // A role profile named explicitly by AWS_PROFILE comes first, as with
  // `aws --profile`: the environment's keys may be its credential_source.
  if (!EnvOr(env, "AWS_PROFILE").empty() && !Key(profile, "role_arn").empty()) {
    auto c = FromProfile(profile_name, profile, {});
    if (!c.ok()) return c.status();
    if (c->has_value()) return **c;
  }
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
  const bool profile_found = !profile.empty();
  auto from_profile = FromProfile(profile_name, profile, {});
  if (!from_profile.ok()) return from_profile.status();
  if (from_profile->has_value()) return **from_profile;
  if (EnvOr(env, "AWS_PROFILE").empty() || profile_found) {
    tried.push_back("shared files (no credentials in profile '" + profile_name + "')");
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

Result<std::optional<AwsCredentials>> AwsCredentialChain::FromProfile(const std::string& name, const Profile& p,
                                                                      std::vector<std::string> visited) {
  visited.push_back(name);
  const std::string role_arn = Key(p, "role_arn");
  if (!role_arn.empty() && !Key(p, "web_identity_token_file").empty() && Key(p, "source_profile").empty() &&
      Key(p, "credential_source").empty()) {
    return Some(
        FromWebIdentity(Key(p, "web_identity_token_file"), role_arn, Key(p, "role_session_name")));
  }
  if (!role_arn.empty()) {
    const std::string source_profile = Key(p, "source_profile"), credential_source = Key(p, "credential_source");
    if (!source_profile.empty() && !credential_source.empty()) {
      return Status(ErrorKind::kInvalidArgument, "AWS profile '" + name +
                                                     "' sets both source_profile and credential_source; keep one");
    }
    if (source_profile.empty() && credential_source.empty()) {
      return Status(ErrorKind::kInvalidArgument,
                    "AWS profile '" + name +
                        "' has role_arn but no source_profile, credential_source or web_identity_token_file");
    }
    if (!Key(p, "mfa_serial").empty()) {
      return Status(ErrorKind::kPermissionDenied,
                    "AWS profile '" + name + "' requires an MFA code (mfa_serial), which Savoir cannot ask anyone for: "
                    "use a role whose trust policy does not require MFA, or credentials from SSO or a "
                    "credential_process");
    }
    Result<AwsCredentials> source = !source_profile.empty() ? FromSourceProfile(name, source_profile, visited)
                                                            : FromCredentialSource(name, credential_source);
    if (!source.ok()) return source.status();
    AwsCredentials signer = *source;
    return Some(Cached("role " + JoinChain(visited, role_arn), [&] {
      return AssumeRole(name, p, signer);
    }));
  }
  if (!Key(p, "sso_session").empty() || !Key(p, "sso_start_url").empty() || !Key(p, "sso_account_id").empty()) {
    return Some(Cached("sso " + name, [&] { return FromSso(name, p); }));
  }
  if (HasStaticKeys(p)) return Some(StaticKeys(name, p));
  if (std::string command = Key(p, "credential_process"); !command.empty()) {
    return Some(Cached("process " + name, [&] { return FromProcess(name, command); }));
  }
  return std::optional<AwsCredentials>();
}

Result<AwsCredentials> AwsCredentialChain::FromSourceProfile(const std::string& parent, const std::string& source,
                                                             const std::vector<std::string>& visited) {
  Profile p = LoadAwsProfile(opt_.env, source);
  if (p.empty()) {
    return Status(ErrorKind::kInvalidArgument, "AWS profile '" + parent + "' names source_profile '" + source +
                                                   "', which is in neither the credentials nor the config file");
  }
  // As botocore: a profile may name itself to take its own static keys;
  // any other return to a profile already on the way is a loop.
  bool seen = false;
  for (const auto& v : visited) seen = seen || v == source;
  if (seen && (source != parent || !HasStaticKeys(p))) {
    return Status(ErrorKind::kInvalidArgument, "AWS profiles loop through source_profile: " + JoinChain(visited, source));
  }
  // Static keys in the source profile win over its own role_arn.
  if (HasStaticKeys(p)) return StaticKeys(source, p);
  auto c = FromProfile(source, p, visited);
  if (!c.ok()) return c.status();
  if (!c->has_value()) {
    return Status(ErrorKind::kPermissionDenied,
                  "source_profile '" + source + "' of AWS profile '" + parent + "' holds no credentials");
  }
  return **c;
}

Result<AwsCredentials> AwsCredentialChain::FromCredentialSource(const std::string& profile_name,
                                                                const std::string& source) {
  if (source == "Environment") {
    std::string key = EnvOr(opt_.env, "AWS_ACCESS_KEY_ID"), secret = EnvOr(opt_.env, "AWS_SECRET_ACCESS_KEY");
    if (key.empty() || secret.empty()) {
      return Status(ErrorKind::kPermissionDenied, "AWS profile '" + profile_name +
                                                      "' takes its credentials from the environment, where "
                                                      "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not both set");
    }
    return AwsCredentials{key, secret, EnvOr(opt_.env, "AWS_SESSION_TOKEN"), 0, "environment"};
  }
  if (source == "Ec2InstanceMetadata") {
    auto c = Cached("imds", [&] { return FromInstanceMetadata(); });
    if (!c.ok()) return Status(c.status().kind(), "credential_source of AWS profile '" + profile_name + "': instance metadata: " + c.status().message());
    return c;
  }
  if (source == "EcsContainer") {
    std::string relative = EnvOr(opt_.env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
                full = EnvOr(opt_.env, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
    if (relative.empty() && full.empty()) {
      return Status(ErrorKind::kPermissionDenied, "AWS profile '" + profile_name +
                                                      "' takes its credentials from the container, but neither "
                                                      "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor _FULL_URI is set");
    }
    std::string url = relative.empty() ? full : "http://169.254.170.2" + relative;
    return Cached("container", [&] { return FromContainer(url); });
  }
  return Status(ErrorKind::kInvalidArgument, "AWS profile '" + profile_name + "' has credential_source '" + source +
                                                 "'; expected Environment, Ec2InstanceMetadata or EcsContainer");
}

Result<AwsCredentials> AwsCredentialChain::CallSts(const std::string& action,
                                                   const std::vector<std::pair<std::string, std::string>>& params,
                                                   const std::string& role_arn, const AwsCredentials* signer, const std::string& source) {
  // The region of the whole session (Bedrock's), as botocore's STS clients
  // take the session's, not the source profile's.
  std::string region = opt_.region;
  if (region.empty()) {
    auto r = ResolveAwsRegion("", opt_.env);
    if (r.ok()) region = *r;
  }
  std::string endpoint = opt_.sts_endpoint;
  if (endpoint.empty()) endpoint = EnvOr(opt_.env, "AWS_ENDPOINT_URL_STS", EnvOr(opt_.env, "AWS_ENDPOINT_URL"));
  if (endpoint.empty()) {
    endpoint = region.empty() ? "https://sts.amazonaws.com" : "https://sts." + region + ".amazonaws.com";
  }
  HttpRequest req;
  req.method = "POST";
  req.url = TrimSlash(endpoint) + "/";
  req.headers = {"Content-Type: application/x-www-form-urlencoded; charset=utf-8", "Accept: application/xml"};
  std::vector<std::pair<std::string, std::string>> form = {{"Action", action}, {"Version", "2011-06-15"}};
  form.insert(form.end(), params.begin(), params.end());
  req.body = FormEncode(form);
  if (signer) {
    // The global endpoint signs for us-east-1, as the SDKs do.
    SAVOIR_RETURN_IF_ERROR(SigV4SignHttpRequest(&req, *signer, region.empty() ? "us-east-1" : region, "sts", opt_.now()));
  }
  auto resp = sts_.Send(req);
  if (!resp.ok()) {
    return Status(resp.status().kind(), "STS " + action + " for " + role_arn + ": " + resp.status().message());
  }
  pugi::xml_document doc;
  doc.load_string(resp->body.c_str());
  if (resp->status != 200) {
    std::string code = FindNode(doc, "Code").text().get(), message = FindNode(doc, "Message").text().get();
    return Status(ErrorKind::kPermissionDenied, "STS refused " + action + " for " + role_arn + " (HTTP " +
                                                    std::to_string(resp->status) + (code.empty() ? "" : " " + code) +
                                                    (message.empty() ? "" : ": " + message) + ")");
  }
  pugi::xml_node creds = FindNode(doc, "Credentials");
  AwsCredentials c{creds.child("AccessKeyId").text().get(), creds.child("SecretAccessKey").text().get(),
                   creds.child("SessionToken").text().get(), ParseIso8601(creds.child("Expiration").text().get()),
                   source};
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return Status(ErrorKind::kUnavailable, "STS " + action + " for " + role_arn + " answered without credentials");
  }
  return c;
}

Result<AwsCredentials> AwsCredentialChain::AssumeRole(const std::string& profile_name, const Profile& p,
                                                      const AwsCredentials& source) {
  const std::string role_arn = Key(p, "role_arn");
  std::string session = Key(p, "role_session_name");
  if (session.empty()) session = "savoir-" + std::to_string(opt_.now());
  std::vector<std::pair<std::string, std::string>> params = {{"RoleArn", role_arn}, {"RoleSessionName", session}};
  if (std::string d = Key(p, "duration_seconds"); !d.empty()) {
    char* end = nullptr;
    long v = std::strtol(d.c_str(), &end, 10);
    if (*end || v < 900 || v > 43200) {
      return Status(ErrorKind::kInvalidArgument, "AWS profile '" + profile_name + "': duration_seconds must be 900 to 43200, got '" + d + "'");
    }
    params.emplace_back("DurationSeconds", std::to_string(v));
  }
  if (std::string ext = Key(p, "external_id"); !ext.empty()) params.emplace_back("ExternalId", ext);
  return CallSts("AssumeRole", params, role_arn, &source,
                 "profile " + profile_name + " role " + role_arn + " (from " + source.source + ")");
}

Result<std::pair<std::string, std::time_t>> AwsCredentialChain::RefreshSsoToken(const nlohmann::json& cached,
                                                                                  const std::string& start_url,
                                                                                  const std::string& sso_region,
                                                                                  const std::string& cache_file) {
  auto text = [&](const char* k) {
    return cached.contains(k) && cached[k].is_string() ? cached[k].get<std::string>() : std::string();
  };
  const std::string refresh = text("refreshToken"), client_id = text("clientId"), client_secret = text("clientSecret");
  const std::time_t registration = ParseIso8601(text("registrationExpiresAt"));
  if (refresh.empty() || client_id.empty() || client_secret.empty() || registration == 0) {
    return Status(ErrorKind::kNotFound, "no refresh token cached");
  }
  if (opt_.now() >= registration) {
    return Status(ErrorKind::kPermissionDenied, "the client registration expired at " + IsoUtc(registration));
  }
  std::string endpoint = EnvOr(opt_.env, "AWS_ENDPOINT_URL_SSO_OIDC", EnvOr(opt_.env, "AWS_ENDPOINT_URL"));
  if (endpoint.empty()) endpoint = "https://oidc." + sso_region + ".amazonaws.com";
  HttpRequest req;
  req.method = "POST";
  req.url = TrimSlash(endpoint) + "/token";
  req.headers = {"Content-Type: application/json", "Accept: application/json"};
  req.body = nlohmann::json{{"grantType", "refresh_token"}, {"clientId", client_id}, {"clientSecret", client_secret},
                            {"refreshToken", refresh}}.dump();
  auto resp = sso_.Send(req);
  if (!resp.ok()) return resp.status();
  auto r = nlohmann::json::parse(resp->body, nullptr, false);
  if (resp->status != 200) {
    std::string why = r.is_object() && r.contains("error") && r["error"].is_string() ? r["error"].get<std::string>()
                                                                                     : AwsJsonMessage(resp->body);
    return Status(ErrorKind::kPermissionDenied, "SSO OIDC CreateToken answered HTTP " + std::to_string(resp->status) + " " + why);
  }
  std::string access = r.is_object() ? JsonString(r, "accessToken") : "";
  int64_t expires_in = r.is_object() && r.contains("expiresIn") && r["expiresIn"].is_number() ? r["expiresIn"].get<int64_t>() : 0;
  if (access.empty() || expires_in <= 0) {
    return Status(ErrorKind::kUnavailable, "SSO OIDC CreateToken answered without a token");
  }
  const std::time_t expires = opt_.now() + static_cast<std::time_t>(expires_in);
  nlohmann::json updated = {{"startUrl", start_url}, {"region", sso_region}, {"accessToken", access},
                            {"expiresAt", IsoUtc(expires)}, {"clientId", client_id}, {"clientSecret", client_secret},
                            {"registrationExpiresAt", text("registrationExpiresAt")},
                            {"refreshToken", r.contains("refreshToken") && r["refreshToken"].is_string()
                                                 ? r["refreshToken"].get<std::string>() : refresh}};
  // Best effort, atomically and private (the file holds tokens); a
  // read-only home still gets the new token for this process.
  std::string tmp = cache_file + ".savoir-" + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd >= 0) {
    std::string body = updated.dump();
    bool written = write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size());
    written = close(fd) == 0 && written;
    if (!written || rename(tmp.c_str(), cache_file.c_str()) != 0) unlink(tmp.c_str());
  }
  return std::make_pair(access, expires);
}

Result<AwsCredentials> AwsCredentialChain::FromSso(const std::string& profile_name, const Profile& p) {
  const std::string login = "run `aws sso login --profile " + profile_name + "`";
  std::string start_url = Key(p, "sso_start_url"), sso_region = Key(p, "sso_region"), cache_key = start_url;
  std::string what = "SSO profile '" + profile_name + "'";
  if (std::string session = Key(p, "sso_session"); !session.empty()) {
    auto s = LoadAwsConfigSection(opt_.env, "sso-session " + session);
    if (s.empty()) {
      return Status(ErrorKind::kInvalidArgument, "AWS profile '" + profile_name + "' names sso_session '" + session +
                                                     "', but the config file has no [sso-session " + session + "] section");
    }
    start_url = Key(s, "sso_start_url");
    sso_region = Key(s, "sso_region");
    cache_key = session;
    what += " (sso-session " + session + ")";
  }
  std::vector<std::string> missing;
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"sso_start_url", start_url}, {"sso_region", sso_region},
           {"sso_account_id", Key(p, "sso_account_id")}, {"sso_role_name", Key(p, "sso_role_name")}}) {
    if (v.empty()) missing.push_back(k);
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    return Status(ErrorKind::kInvalidArgument, what + " lacks " + list);
  }
  std::string cache_file = HomeFile(opt_.env, "", ".aws/sso/cache/" + Sha1Hex(cache_key) + ".json");
  bool ok = false;
  std::string text = ReadFileText(cache_file, &ok);
  if (!ok) {
    return Status(ErrorKind::kPermissionDenied, what + ": no SSO token cached (" + cache_file + "); " + login);
  }
  auto j = nlohmann::json::parse(text, nullptr, false);
  std::string token = j.is_object() ? JsonString(j, "accessToken") : "";
  std::time_t expires = j.is_object() ? ParseIso8601(JsonString(j, "expiresAt")) : 0;
  if (token.empty() || expires == 0) {
    return Status(ErrorKind::kPermissionDenied, what + ": the cached SSO token " + cache_file + " is unreadable; " + login);
  }
  // As botocore for sso-session profiles: within 15 minutes of expiry the
  // token is renewed with the cached refresh token (SSO OIDC CreateToken)
  // and written back to the cache, as `aws sso login` would have.
  std::string refresh_failure;
  if (!Key(p, "sso_session").empty() && opt_.now() + 15 * 60 >= expires) {
    auto renewed = RefreshSsoToken(j, start_url, sso_region, cache_file);
    if (renewed.ok()) {
      token = renewed->first;
      expires = renewed->second;
    } else if (renewed.status().kind() != ErrorKind::kNotFound) {
      refresh_failure = " (renewing it failed: " + renewed.status().message() + ")";
    }
  }
  if (opt_.now() >= expires) {
    return Status(ErrorKind::kPermissionDenied,
                  what + ": the SSO token expired at " + IsoUtc(expires) + refresh_failure + "; " + login);
  }
  std::string endpoint = EnvOr(opt_.env, "AWS_ENDPOINT_URL_SSO", EnvOr(opt_.env, "AWS_ENDPOINT_URL"));
  if (endpoint.empty()) endpoint = "https://portal.sso." + sso_region + ".amazonaws.com";
  std::string url = TrimSlash(endpoint) + "/federation/credentials?account_id=" + UrlEncode(Key(p, "sso_account_id")) +
                    "&role_name=" + UrlEncode(Key(p, "sso_role_name"));
  auto resp = sso_.Get(url, {"x-amz-sso_bearer_token: " + token, "Accept: application/json"});
  if (!resp.ok()) return Status(resp.status().kind(), what + ": " + resp.status().message());
  if (resp->status == 401 || resp->status == 403) {
    return Status(ErrorKind::kPermissionDenied, what + ": the SSO portal refused the cached token (HTTP " +
                                                    std::to_string(resp->status) + ": " +
                                                    AwsJsonMessage(resp->body) + "); " + login);
  }
  if (resp->status != 200) {
    return Status(ErrorKind::kUnavailable, what + ": the SSO portal answered HTTP " + std::to_string(resp->status) +
                                               ": " + AwsJsonMessage(resp->body));
  }
  auto r = nlohmann::json::parse(resp->body, nullptr, false);
  AwsCredentials c;
  if (r.is_object() && r.contains("roleCredentials") && r["roleCredentials"].is_object()) {
    const auto& rc = r["roleCredentials"];
    int64_t ms = rc.contains("expiration") && rc["expiration"].is_number() ? rc["expiration"].get<int64_t>() : 0;
    c = {JsonString(rc, "accessKeyId"), JsonString(rc, "secretAccessKey"), JsonString(rc, "sessionToken"),
         static_cast<std::time_t>(ms / 1000),
         "sso " + Key(p, "sso_account_id") + " role " + Key(p, "sso_role_name")};
  }
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return Status(ErrorKind::kUnavailable, what + ": the SSO portal answered without credentials");
  }
  return c;
}

Result<AwsCredentials> AwsCredentialChain::FromProcess(const std::string& profile_name, const std::string& command) {
  const std::string what = "credential_process of AWS profile '" + profile_name + "'";
  auto argv = SplitCommandLine(command);
  if (!argv.ok()) return Status(ErrorKind::kInvalidArgument, what + ": " + argv.status().message());
  if (argv->empty()) return Status(ErrorKind::kInvalidArgument, what + " is empty");
  auto run = RunProcess(*argv, opt_.process_timeout_ms);
  if (!run.ok()) return Status(run.status().kind(), what + ": " + run.status().message());
  if (run->exit_code != 0) {
    std::string said = Trim(run->err.substr(0, 300));
    for (char& ch : said)
      if (static_cast<unsigned char>(ch) < 0x20) ch = ' ';
    return Status(ErrorKind::kPermissionDenied, what + ": '" + (*argv)[0] + "' exited with status " +
                                                    std::to_string(run->exit_code) + (said.empty() ? "" : ": " + said));
  }
  // Never quote the output: it holds secrets.
  auto j = nlohmann::json::parse(run->out, nullptr, false);
  if (!j.is_object()) return Status(ErrorKind::kInvalidArgument, what + ": '" + (*argv)[0] + "' printed no JSON object");
  if (!j.contains("Version") || j["Version"] != 1) {
    return Status(ErrorKind::kInvalidArgument, what + ": '" + (*argv)[0] + "' printed JSON without \"Version\": 1");
  }
  auto text = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string(); };
  AwsCredentials c{text("AccessKeyId"), text("SecretAccessKey"), text("SessionToken"), 0, "process " + (*argv)[0]};
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return Status(ErrorKind::kInvalidArgument, what + ": '" + (*argv)[0] + "' printed no AccessKeyId / SecretAccessKey");
  }
  if (std::string e = text("Expiration"); !e.empty()) {
    c.expiration = ParseIso8601(e);
    if (c.expiration == 0) {
      return Status(ErrorKind::kInvalidArgument, what + ": Expiration '" + e + "' is not an ISO 8601 time");
    }
    if (c.expiration <= opt_.now()) {
      return Status(ErrorKind::kPermissionDenied, what + ": '" + (*argv)[0] + "' returned credentials that expired at " + e);
    }
  }
  return c;
}

Result<AwsCredentials> AwsCredentialChain::FromWebIdentity(const std::string& token_file, const std::string& role_arn,
                                                           const std::string& session_name) {
  bool ok = false;
  std::string token = Trim(ReadFileText(token_file, &ok));
  if (!ok || token.empty()) {
    return Status(ErrorKind::kPermissionDenied, "cannot read the web identity token file " + token_file);
  }
  return CallSts("AssumeRoleWithWebIdentity",
                 {{"RoleArn", role_arn},
                  {"RoleSessionName", session_name.empty() ? "savoir-" + std::to_string(opt_.now()) : session_name},
                  {"WebIdentityToken", token}},
                 role_arn, nullptr, "web identity " + role_arn);
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
    c = {JsonString(j, "AccessKeyId"), JsonString(j, "SecretAccessKey"), JsonString(j, "Token"),
         ParseIso8601(JsonString(j, "Expiration")), "container " + JsonString(j, "RoleArn", "role")};
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
  if (!j.is_object() || JsonString(j, "Code", "Success") != "Success") {
    return Status(ErrorKind::kUnavailable, "IMDS returned no usable credentials for role " + role_name);
  }
  AwsCredentials c{JsonString(j, "AccessKeyId"), JsonString(j, "SecretAccessKey"), JsonString(j, "Token"),
                   ParseIso8601(JsonString(j, "Expiration")), "instance role " + role_name};
  if (c.access_key_id.empty() || c.secret_access_key.empty()) {
    return Status(ErrorKind::kUnavailable, "IMDS returned no usable credentials for role " + role_name);
  }
  return c;
}

}  // namespace savoir
