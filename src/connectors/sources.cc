#include "connectors/sources.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <filesystem>
#include <tuple>
#include <nlohmann/json.hpp>

#include "common/file.h"
#include "common/json_read.h"
#include "common/secret.h"
#include "connectors/confluence/api_connector.h"
#include "connectors/confluence/export_connector.h"
#include "connectors/slack/api_connector.h"
#include "connectors/slack/export_connector.h"
#include "connectors/web/url.h"
#include "connectors/web/web_connector.h"

namespace savoir {
namespace {
using json = nlohmann::json;

std::string TrimToken(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  size_t b = s.find_first_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b);
}

bool ValidAccessEntry(const std::string& e) {
  return e == "public" || (e.rfind("user:", 0) == 0 && e.size() > 5) || (e.rfind("group:", 0) == 0 && e.size() > 6);
}

bool HttpUrl(const std::string& u) { return u.rfind("http://", 0) == 0 || u.rfind("https://", 0) == 0; }

// What an error calls a setting: the API's JSON field or the CLI's flag.
std::string Field(const NewSource& s, const std::string& json_field, const std::string& flag) {
  return s.api ? json_field : flag;
}

Status Invalid(const std::string& field, const std::string& what) {
  return Status(ErrorKind::kInvalidArgument, field + ": " + what);
}

const char* kKinds = "slack, slack-export, confluence, confluence-export, web";

Status CheckAcl(const NewSource& s, const AccessList& acl) {
  for (const auto& e : acl)
    if (!ValidAccessEntry(e))
      return Invalid(Field(s, "config.acl", "--acl"), "'" + e + "' is not public, user:LOGIN or group:NAME");
  return Status::Ok();
}

Status WebConfig(const NewSource& s, json* cfg) {
  std::string url = web::NormalizeUrl(s.url);
  if (url.empty())
    return Invalid(Field(s, "config.url", "--url"),
                   s.url.empty() ? "a web source needs the site's http(s):// URL" : "'" + s.url + "' is not an http(s) URL");
  json sitemaps = json::array(), feeds = json::array();
  for (const auto& [list, out, field] : {std::tuple{&s.sitemaps, &sitemaps, Field(s, "config.sitemaps", "--sitemap")},
                                         {&s.feeds, &feeds, Field(s, "config.feeds", "--feed")}})
    for (const auto& u : *list) {
      if (web::NormalizeUrl(u).empty()) return Invalid(field, "'" + u + "' is not an http(s) URL");
      out->push_back(u);
    }
  if (s.max_pages < 1) return Invalid(Field(s, "config.max_pages", "--max-pages"), "must be at least 1");
  AccessList acl = s.acl.empty() ? AccessList{"public"} : s.acl;
  SAVOIR_RETURN_IF_ERROR(CheckAcl(s, acl));
  *cfg = {{"url", url}, {"sitemaps", sitemaps}, {"feeds", feeds}, {"max_pages", s.max_pages},
          {"acl", acl}, {"requests_per_minute", s.requests_per_minute}};
  return Status::Ok();
}

bool NeedsCredential(const std::string& kind) { return kind == "slack" || kind == "confluence"; }
// Web sites may take one (an intranet behind basic auth, a token, a cookie).
bool TakesCredential(const std::string& kind) { return NeedsCredential(kind) || kind == "web"; }

// The credential given with `s` (token file or value), trimmed; empty when none.
Result<std::string> GivenCredential(const NewSource& s) {
  if (s.token_file.empty()) return TrimToken(s.token);
  auto token = ReadFile(s.token_file);
  if (!token.ok()) return Status(ErrorKind::kNotFound, "cannot read the token file " + s.token_file);
  std::string t = TrimToken(*token);
  if (t.empty()) return Status(ErrorKind::kInvalidArgument, "the token file " + s.token_file + " is empty");
  return t;
}

bool HasControlChar(const std::string& v) {
  for (unsigned char c : v)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

}  // namespace

// The header line a web source's credential is sent as (see NewSource::auth).
Result<std::string> WebAuthHeader(const std::string& auth, const std::string& credential) {
  auto bad = [](const std::string& why) { return Status(ErrorKind::kInvalidArgument, why); };
  if (credential.empty()) return bad("the credential is empty");
  if (HasControlChar(credential)) return bad("the credential holds a line break or another control character");
  if (auth.empty() || auth == "bearer") return "Authorization: Bearer " + credential;
  if (auth == "basic") {
    if (credential.find(':') == std::string::npos) return bad("a basic credential is user:password (no ':' found)");
    return "Authorization: Basic " + ToBase64(credential);
  }
  if (auth == "header") {
    size_t colon = credential.find(':');
    std::string name = credential.substr(0, colon == std::string::npos ? 0 : colon);
    static const std::string kTokenChars = "!#$%&'*+-.^_`|~";
    bool ok = !name.empty();
    for (unsigned char c : name) ok = ok && (std::isalnum(c) || kTokenChars.find(static_cast<char>(c)) != std::string::npos);
    if (!ok) return bad("a header credential is a whole header line, 'Name: value'");
    std::string lower;
    for (unsigned char c : name) lower += static_cast<char>(std::tolower(c));
    // Credentials only: a Range, Host or Accept-Encoding would change what
    // every request means.
    if (lower != "authorization" && lower != "cookie" && lower.rfind("x-", 0) != 0)
      return bad("a header credential is an Authorization, Cookie or X-… header, not " + name);
    return credential;
  }
  return bad("unknown auth '" + auth + "' (bearer, basic or header)");
}

namespace {

// Validates `s` and builds the configuration to store. With `seal_token`, the
// credential (token file or value) is required and sealed into "token";
// without, the caller keeps the stored one.
Status BuildSourceConfig(const Config& config, const NewSource& s, bool seal_token, json* out) {
  json cfg;
  if (s.requests_per_minute < 1 || s.requests_per_minute > 10000000)
    return Invalid(Field(s, "config.requests_per_minute", "--rate-per-min"), "must be between 1 and 10000000");
  if (s.interval_min > 10080)
    return Invalid(Field(s, "interval_min", "--interval-min"), "must be between 0 and 10080 (a week)");
  if (s.kind == "slack-export") {
    std::error_code ec;
    if (s.path.empty() || !std::filesystem::exists(s.path, ec))
      return Status(ErrorKind::kNotFound, Field(s, "config.path", "--path") + ": cannot read Slack export '" + s.path +
                                              "': no such file or folder");
    cfg["path"] = std::filesystem::absolute(s.path, ec).lexically_normal().string();
    cfg["domain"] = s.domain.empty() ? s.name : s.domain;
  } else if (s.kind == "confluence-export") {
    std::error_code ec;
    if (s.path.empty() || !std::filesystem::exists(s.path, ec))
      return Status(ErrorKind::kNotFound, Field(s, "config.path", "--path") + ": cannot read Confluence export '" +
                                              s.path + "': no such file or folder");
    if (s.spaces.size() > 1) return Invalid(Field(s, "config.space", "--space"), "a Confluence export holds one space");
    SAVOIR_RETURN_IF_ERROR(CheckAcl(s, s.acl));
    cfg["path"] = std::filesystem::absolute(s.path, ec).lexically_normal().string();
    cfg["space"] = s.spaces.empty() ? "" : s.spaces[0];
    cfg["acl"] = s.acl;
  } else if (NeedsCredential(s.kind)) {
    if (s.kind == "confluence") {
      if (!HttpUrl(s.base_url))
        return Invalid(Field(s, "config.base_url", "--base-url"),
                       s.base_url.empty() ? "a confluence source needs the site's http(s):// URL"
                                          : "'" + s.base_url + "' is not an http(s) URL");
      cfg["base_url"] = s.base_url;
      cfg["user"] = s.user;
      cfg["spaces"] = s.spaces;
    } else {
      if (!HttpUrl(s.api_url))
        return Invalid(Field(s, "config.api_url", "--api-url"), "'" + s.api_url + "' is not an http(s) URL");
      cfg["api_url"] = s.api_url;
      if (s.rescan_days > 3650)
        return Invalid(Field(s, "config.rescan_days", "--rescan-days"), "must be between 0 (never) and 3650");
      if (s.rescan_days >= 0) cfg["rescan_days"] = s.rescan_days;
    }
    cfg["requests_per_minute"] = s.requests_per_minute;
    if (seal_token) {
      SAVOIR_ASSIGN_OR_RETURN(std::string t, GivenCredential(s));
      if (t.empty()) return Invalid(Field(s, "credential", "--token-file"), "a " + s.kind + " source needs a token");
      SAVOIR_ASSIGN_OR_RETURN(SecretKey key, SecretKey::FromConfig(config));
      cfg["token"] = key.Seal(t);
    }
  } else if (s.kind == "web") {
    SAVOIR_RETURN_IF_ERROR(WebConfig(s, &cfg));
    // An optional credential, sent only to the site's own origins.
    const std::string auth_field = Field(s, "config.auth", "--auth");
    if (!s.auth.empty() && s.auth != "bearer" && s.auth != "basic" && s.auth != "header")
      return Invalid(auth_field, "'" + s.auth + "' is not bearer, basic or header");
    if (seal_token) {
      SAVOIR_ASSIGN_OR_RETURN(std::string t, GivenCredential(s));
      if (!t.empty()) {
        if (auto h = WebAuthHeader(s.auth, t); !h.ok()) return Invalid(Field(s, "credential", "--token-file"), h.status().message());
        SAVOIR_ASSIGN_OR_RETURN(SecretKey key, SecretKey::FromConfig(config));
        cfg["token"] = key.Seal(t);
      } else if (!s.auth.empty()) {
        return Invalid(auth_field, "is how a credential is sent, and none is given (--token-file, or the API's credential)");
      }
    }
    if (!s.auth.empty()) cfg["auth"] = s.auth;
  } else {
    return Invalid(Field(s, "kind", "kind"), "unknown source kind '" + s.kind + "' (" + kKinds + ")");
  }
  if (s.interval_min >= 0) cfg["interval_min"] = s.interval_min;
  *out = std::move(cfg);
  return Status::Ok();
}

std::string TypeName(const json& v) { return v.type_name(); }

Status GetString(const json& cfg, const std::string& key, std::string* out) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return Invalid("config." + key, "must be a string, not " + TypeName(*it));
  *out = it->get<std::string>();
  return Status::Ok();
}

Status GetStrings(const json& cfg, const std::string& key, std::vector<std::string>* out) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return Status::Ok();
  if (!it->is_array()) return Invalid("config." + key, "must be an array of strings, not " + TypeName(*it));
  std::vector<std::string> v;
  for (const auto& e : *it) {
    if (!e.is_string()) return Invalid("config." + key, "must be an array of strings (found " + TypeName(e) + ")");
    v.push_back(e.get<std::string>());
  }
  *out = std::move(v);
  return Status::Ok();
}

Status GetNumber(const json& cfg, const std::string& key, const std::string& field, double* out) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return Status::Ok();
  if (!it->is_number()) return Invalid(field, "must be a number, not " + TypeName(*it));
  *out = it->get<double>();
  return Status::Ok();
}

// The kind's own fields of an API "config" object onto `s`; unknown fields are errors.
Status ApplyConfigFields(const json& cfg, NewSource* s) {
  if (cfg.is_null()) return Status::Ok();
  if (!cfg.is_object()) return Invalid("config", "must be an object, not " + TypeName(cfg));
  static const std::vector<std::pair<std::string, std::vector<std::string>>> kFields = {
      {"slack-export", {"path", "workspace"}},
      {"slack", {"api_url", "requests_per_minute", "rescan_days"}},
      {"confluence", {"base_url", "user", "spaces", "requests_per_minute"}},
      {"confluence-export", {"path", "space", "acl"}},
      {"web", {"url", "sitemaps", "feeds", "max_pages", "acl", "requests_per_minute", "auth"}},
  };
  const std::vector<std::string>* allowed = nullptr;
  for (const auto& [kind, fields] : kFields)
    if (kind == s->kind) allowed = &fields;
  if (!allowed) return Invalid("kind", "unknown source kind '" + s->kind + "' (" + kKinds + ")");
  for (const auto& [key, value] : cfg.items()) {
    if (std::find(allowed->begin(), allowed->end(), key) != allowed->end()) continue;
    std::string list;
    for (const auto& f : *allowed) list += (list.empty() ? "" : ", ") + f;
    return Invalid("config." + key, "not a setting of a " + s->kind + " source (" + list + ")");
  }
  SAVOIR_RETURN_IF_ERROR(GetString(cfg, "path", &s->path));
  SAVOIR_RETURN_IF_ERROR(GetString(cfg, "workspace", &s->domain));
  SAVOIR_RETURN_IF_ERROR(GetString(cfg, "api_url", &s->api_url));
  SAVOIR_RETURN_IF_ERROR(GetString(cfg, "base_url", &s->base_url));
  SAVOIR_RETURN_IF_ERROR(GetString(cfg, "user", &s->user));
  SAVOIR_RETURN_IF_ERROR(GetStrings(cfg, "spaces", &s->spaces));
  if (s->kind == "confluence-export" && cfg.contains("space")) {
    std::string space;
    SAVOIR_RETURN_IF_ERROR(GetString(cfg, "space", &space));
    s->spaces = space.empty() ? std::vector<std::string>{} : std::vector<std::string>{space};
  }
  SAVOIR_RETURN_IF_ERROR(GetString(cfg, "url", &s->url));
  SAVOIR_RETURN_IF_ERROR(GetStrings(cfg, "sitemaps", &s->sitemaps));
  SAVOIR_RETURN_IF_ERROR(GetStrings(cfg, "feeds", &s->feeds));
  SAVOIR_RETURN_IF_ERROR(GetStrings(cfg, "acl", &s->acl));
  SAVOIR_RETURN_IF_ERROR(GetString(cfg, "auth", &s->auth));
  SAVOIR_RETURN_IF_ERROR(GetNumber(cfg, "requests_per_minute", "config.requests_per_minute", &s->requests_per_minute));
  SAVOIR_RETURN_IF_ERROR(GetNumber(cfg, "rescan_days", "config.rescan_days", &s->rescan_days));
  if (cfg.contains("rescan_days") && s->rescan_days < 0)
    return Invalid("config.rescan_days", "must be between 0 (never) and 3650");
  double max_pages = s->max_pages;
  SAVOIR_RETURN_IF_ERROR(GetNumber(cfg, "max_pages", "config.max_pages", &max_pages));
  if (!(max_pages >= 1 && max_pages <= 10000000) || max_pages != static_cast<double>(static_cast<int>(max_pages)))
    return Invalid("config.max_pages", "must be a whole number between 1 and 10000000");
  s->max_pages = static_cast<int>(max_pages);
  return Status::Ok();
}

Status ParseInterval(const json& v, double* out) {
  if (v.is_null()) {
    *out = -1;
    return Status::Ok();
  }
  if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 10080)
    return Invalid("interval_min", "must be a number of minutes between 0 (manual only) and 10080, or null (the "
                                   "server's default)");
  *out = v.get<double>();
  return Status::Ok();
}

// The NewSource a stored source was made from (without its credential).
NewSource StoredSource(const SourceRecord& rec, const json& cfg) {
  NewSource s;
  s.api = true;
  s.kind = rec.kind;
  s.name = rec.name;
  s.path = cfg.value("path", "");
  s.domain = cfg.value("domain", "");
  s.api_url = cfg.value("api_url", s.api_url);
  s.rescan_days = cfg.value("rescan_days", -1.0);
  s.requests_per_minute = cfg.value("requests_per_minute", s.requests_per_minute);
  s.url = cfg.value("url", "");
  s.sitemaps = cfg.value("sitemaps", std::vector<std::string>{});
  s.feeds = cfg.value("feeds", std::vector<std::string>{});
  s.max_pages = cfg.value("max_pages", s.max_pages);
  s.acl = cfg.value("acl", AccessList{});
  s.auth = cfg.value("auth", "");
  s.base_url = cfg.value("base_url", "");
  s.user = cfg.value("user", "");
  if (rec.kind == "confluence-export") {
    std::string space = cfg.value("space", "");
    if (!space.empty()) s.spaces = {space};
  } else {
    s.spaces = cfg.value("spaces", std::vector<std::string>{});
  }
  s.interval_min = cfg.value("interval_min", -1.0);
  return s;
}

}  // namespace

bool IsConnectorKind(const std::string& kind) {
  return kind == "slack-export" || kind == "slack" || kind == "confluence" || kind == "confluence-export" ||
         kind == "web";
}

int64_t SyncIntervalSeconds(const SourceRecord& source, const Config& config) {
  json cfg = json::parse(source.config_json, nullptr, false);
  if (cfg.is_object())
    if (auto it = cfg.find("interval_min"); it != cfg.end() && it->is_number() && it->get<double>() >= 0)
      return static_cast<int64_t>(it->get<double>() * 60);
  if (config.sync_interval_s > 0) return config.sync_interval_s;
  return int64_t{config.sync_interval_min} * 60;
}

Status SyncSource(Store& store, const Config& config, const SourceRecord& source, const IngestOptions& ingest,
                  ConnectorSyncSummary* summary, std::function<bool()> cancelled,
                  std::function<Status()> catch_up_index) {
  ConnectorSyncOptions opt;
  opt.ingest = ingest;
  opt.cancelled = std::move(cancelled);
  size_t changed_at_last_catch_up = 0;
  if (catch_up_index) {
    opt.after_batch = [&](const ConnectorSyncSummary& sum) -> Status {
      size_t changed = sum.added + sum.updated + sum.removed;
      if (changed < changed_at_last_catch_up + 2000) return Status::Ok();
      changed_at_last_catch_up = changed;
      return catch_up_index();
    };
  }
  opt.interval_seconds = SyncIntervalSeconds(source, config);
  auto connector = MakeConnector(source, config);
  if (connector.ok()) return SyncConnector(store, source.id, **connector, opt, summary);
  SyncStatus failed;
  failed.last_attempt = std::time(nullptr);
  if (auto prev = store.GetSyncStatus(source.id); prev.ok()) failed.last_success = prev->last_success;
  failed.next_run = opt.interval_seconds > 0 ? failed.last_attempt + opt.interval_seconds : 0;
  failed.errors = {connector.status().message()};
  summary->errors.push_back(connector.status().message());
  (void)store.RecordSyncStatus(source.id, failed);
  return connector.status();
}

Result<int64_t> AddSource(Store& store, const Config& config, const NewSource& s) {
  if (s.name.empty()) return Invalid(Field(s, "name", "--name"), "a source needs a name");
  for (char c : s.name)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return Invalid(Field(s, "name", "--name"), "'" + s.name + "' may only hold letters, digits, '-', '_' and '.' "
                                                  "(it names the group in access lists)");
  json cfg;
  SAVOIR_RETURN_IF_ERROR(BuildSourceConfig(config, s, /*seal_token=*/true, &cfg));
  SAVOIR_ASSIGN_OR_RETURN(auto sources, store.ListSources());
  for (const auto& existing : sources)
    if (existing.name == s.name)
      return Status(ErrorKind::kAlreadyExists, Field(s, "name", "--name") + ": a source named '" + s.name +
                                                   "' already exists (id " + std::to_string(existing.id) + ")");
  return store.EnsureSource(s.kind, s.name, cfg.dump());
}

Result<NewSource> NewSourceFromJson(const json& body) {
  if (!body.is_object()) return Status(ErrorKind::kInvalidArgument, "the body must be a JSON object");
  for (const auto& [key, value] : body.items())
    if (key != "kind" && key != "name" && key != "config" && key != "credential" && key != "interval_min")
      return Invalid(key, "unknown field (kind, name, config, credential, interval_min)");
  NewSource s;
  s.api = true;
  if (!body.contains("kind") || !body["kind"].is_string())
    return Invalid("kind", std::string("must be a string: one of ") + kKinds);
  s.kind = body["kind"].get<std::string>();
  if (!IsConnectorKind(s.kind)) return Invalid("kind", "unknown source kind '" + s.kind + "' (" + kKinds + ")");
  if (!body.contains("name") || !body["name"].is_string()) return Invalid("name", "must be a string");
  s.name = body["name"].get<std::string>();
  if (auto it = body.find("credential"); it != body.end() && !it->is_null()) {
    if (!it->is_string()) return Invalid("credential", "must be a string, not " + TypeName(*it));
    if (!TakesCredential(s.kind)) return Invalid("credential", "a " + s.kind + " source takes no credential");
    s.token = it->get<std::string>();
  }
  if (auto it = body.find("interval_min"); it != body.end()) SAVOIR_RETURN_IF_ERROR(ParseInterval(*it, &s.interval_min));
  if (auto it = body.find("config"); it != body.end()) SAVOIR_RETURN_IF_ERROR(ApplyConfigFields(*it, &s));
  return s;
}

Status UpdateSource(Store& store, const Config& config, int64_t id, const json& patch) {
  if (!patch.is_object()) return Status(ErrorKind::kInvalidArgument, "the body must be a JSON object");
  for (const auto& [key, value] : patch.items()) {
    if (key == "kind" || key == "name")
      return Invalid(key, "a source's " + key + " cannot change (remove the source and add it again)");
    if (key != "config" && key != "credential" && key != "interval_min")
      return Invalid(key, "unknown field (interval_min, config, credential)");
  }
  if (patch.empty()) return Status(ErrorKind::kInvalidArgument, "nothing to change: give interval_min, config or credential");
  SAVOIR_ASSIGN_OR_RETURN(SourceRecord rec, store.GetSource(id));
  if (!IsConnectorKind(rec.kind))
    return Status(ErrorKind::kInvalidArgument, "source " + std::to_string(id) + " (" + rec.kind +
                                                   ") is configured by `savoir index`, not through the API");
  json cfg = json::parse(rec.config_json, nullptr, false);
  if (!cfg.is_object()) cfg = json::object();
  NewSource s = StoredSource(rec, cfg);
  if (auto it = patch.find("interval_min"); it != patch.end()) SAVOIR_RETURN_IF_ERROR(ParseInterval(*it, &s.interval_min));
  bool clear_credential = false;
  if (auto it = patch.find("credential"); it != patch.end()) {
    if (!TakesCredential(rec.kind)) return Invalid("credential", "a " + rec.kind + " source takes no credential");
    if (it->is_null() && rec.kind == "web") {
      clear_credential = true;  // the site no longer needs one
    } else {
      if (!it->is_string()) return Invalid("credential", "must be a string, not " + TypeName(*it));
      s.token = it->get<std::string>();
      if (TrimToken(s.token).empty()) return Invalid("credential", "the new token is empty");
    }
  }
  const std::string stored_auth = s.auth;
  if (auto it = patch.find("config"); it != patch.end()) SAVOIR_RETURN_IF_ERROR(ApplyConfigFields(*it, &s));
  if (clear_credential) s.auth.clear();
  const bool new_credential = patch.contains("credential") && !clear_credential;
  // Sent another way, the stored credential must still make a valid header.
  if (rec.kind == "web" && !new_credential && !clear_credential && s.auth != stored_auth) {
    std::string sealed = JsonString(cfg, "token");
    if (sealed.empty()) return Invalid("config.auth", "is how a credential is sent, and the source has none");
    SAVOIR_ASSIGN_OR_RETURN(SecretKey key, SecretKey::FromConfig(config));
    SAVOIR_ASSIGN_OR_RETURN(std::string stored, key.Open(sealed));
    if (auto h = WebAuthHeader(s.auth, stored); !h.ok())
      return Invalid("config.auth", "the stored credential cannot be sent that way: " + h.status().message());
  }
  json updated;
  SAVOIR_RETURN_IF_ERROR(BuildSourceConfig(config, s, new_credential, &updated));
  if (!new_credential && !clear_credential && cfg.contains("token")) updated["token"] = cfg["token"];
  SAVOIR_RETURN_IF_ERROR(store.SetSourceConfig(id, updated.dump()));
  if (patch.contains("interval_min")) {
    // The next run follows the new interval from the last attempt.
    rec.config_json = updated.dump();
    auto st = store.GetSyncStatus(id);
    if (st.ok() && st->last_attempt > 0) {
      int64_t every = SyncIntervalSeconds(rec, config);
      st->next_run = every > 0 ? st->last_attempt + every : 0;
      SAVOIR_RETURN_IF_ERROR(store.RecordSyncStatus(id, *st));
    }
  }
  return Status::Ok();
}

bool SourceHasCredential(const SourceRecord& source) {
  json cfg = json::parse(source.config_json, nullptr, false);
  return cfg.is_object() && cfg.contains("token") && cfg["token"].is_string() && !cfg["token"].get<std::string>().empty();
}

namespace {
Result<std::unique_ptr<Connector>> MakeConnectorFrom(const SourceRecord& source, const json& cfg, const Config& config);
}  // namespace

Result<std::unique_ptr<Connector>> MakeConnector(const SourceRecord& source, const Config& config) {
  json cfg = json::parse(source.config_json, nullptr, false);
  if (!cfg.is_object())
    return Status(ErrorKind::kCorrupt, "source " + std::to_string(source.id) + " has an unreadable configuration");
  // The configuration was checked when the source was added or changed; a
  // store edited by hand may still hold a field of another type, which
  // nlohmann's value() throws on: the source's syncs fail, not the server.
  try {
    return MakeConnectorFrom(source, cfg, config);
  } catch (const json::exception& e) {
    return Status(ErrorKind::kCorrupt,
                  "source " + std::to_string(source.id) + " has an unreadable configuration: " + e.what());
  }
}

namespace {
Result<std::unique_ptr<Connector>> MakeConnectorFrom(const SourceRecord& source, const json& cfg, const Config& config) {
  if (source.kind == "slack-export") {
    SlackExportOptions o;
    o.path = cfg.value("path", "");
    o.domain = cfg.value("domain", "");
    o.source_name = source.name;
    return NewSlackExportConnector(o);
  }
  if (source.kind == "confluence-export") {
    ConfluenceExportOptions o;
    o.path = cfg.value("path", "");
    o.space_key = cfg.value("space", "");
    o.acl = cfg.value("acl", AccessList{});
    return NewConfluenceExportConnector(o);
  }
  if (source.kind == "slack" || source.kind == "confluence") {
    auto key = SecretKey::FromConfig(config);
    if (!key.ok())
      return Status(key.status().kind(), "source " + source.name + " has an encrypted token but " +
                                             key.status().message());
    auto token = key->Open(cfg.value("token", ""));
    if (!token.ok()) return Status(token.status().kind(), "source " + source.name + ": " + token.status().message());
    if (source.kind == "confluence") {
      ConfluenceOptions o;
      o.base_url = cfg.value("base_url", "");
      o.user = cfg.value("user", "");
      o.token = std::move(token).value();
      if (auto sp = cfg.find("spaces"); sp != cfg.end() && sp->is_array())
        for (const auto& k : *sp)
          if (k.is_string()) o.spaces.push_back(k.get<std::string>());
      o.http.requests_per_minute = cfg.value("requests_per_minute", 50.0);
      // Attachments: the files connector's limits (defaults when unset).
      if (config.max_file_mb > 0) o.limits.max_file_bytes = config.max_file_mb << 20;
      if (config.parse_timeout_ms > 0) o.limits.timeout_ms = config.parse_timeout_ms;
      if (config.parse_memory_mb > 0) o.limits.memory_bytes = config.parse_memory_mb << 20;
      return NewConfluenceConnector(o);
    }
    SlackApiOptions o;
    o.api_url = cfg.value("api_url", "https://slack.com/api");
    o.token = std::move(token).value();
    o.source_name = source.name;
    o.http.requests_per_minute = cfg.value("requests_per_minute", 50.0);
    o.rescan_days = cfg.value("rescan_days", o.rescan_days);
    return NewSlackApiConnector(o);
  }
  if (source.kind == "web") {
    WebOptions o;
    if (std::string sealed = cfg.value("token", ""); !sealed.empty()) {
      auto key = SecretKey::FromConfig(config);
      if (!key.ok())
        return Status(key.status().kind(), "source " + source.name + " has an encrypted credential but " +
                                               key.status().message());
      auto credential = key->Open(sealed);
      if (!credential.ok())
        return Status(credential.status().kind(), "source " + source.name + ": " + credential.status().message());
      auto header = WebAuthHeader(cfg.value("auth", ""), *credential);
      if (!header.ok()) return Status(header.status().kind(), "source " + source.name + ": " + header.status().message());
      o.auth_header = std::move(header).value();
    }
    o.start_url = cfg.value("url", "");
    o.sitemaps = cfg.value("sitemaps", std::vector<std::string>{});
    o.feeds = cfg.value("feeds", std::vector<std::string>{});
    o.max_pages = cfg.value("max_pages", 1000);
    o.acl = cfg.value("acl", AccessList{"public"});
    o.http.requests_per_minute = cfg.value("requests_per_minute", 50.0);
    o.http.user_agent = "savoir (+https://github.com/savoir)";
    return NewWebConnector(o);
  }
  return Status(ErrorKind::kUnsupported, "source " + std::to_string(source.id) + " (" + source.kind +
                                             ") is synced by `savoir index`, not `savoir source sync`");
}
}  // namespace

}  // namespace savoir
