#include "connectors/sources.h"

#include <ctime>
#include <filesystem>
#include <tuple>
#include <nlohmann/json.hpp>

#include "common/file.h"
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

Status WebConfig(const NewSource& s, json* cfg) {
  std::string url = web::NormalizeUrl(s.url);
  if (url.empty()) return Status(ErrorKind::kInvalidArgument, "source add web needs --url http(s)://...");
  json sitemaps = json::array(), feeds = json::array();
  for (const auto& [list, out, flag] : {std::tuple{&s.sitemaps, &sitemaps, "--sitemap"}, {&s.feeds, &feeds, "--feed"}})
    for (const auto& u : *list) {
      if (web::NormalizeUrl(u).empty())
        return Status(ErrorKind::kInvalidArgument, std::string(flag) + " '" + u + "' is not an http(s) URL");
      out->push_back(u);
    }
  if (s.max_pages < 1) return Status(ErrorKind::kInvalidArgument, "--max-pages must be at least 1");
  AccessList acl = s.acl.empty() ? AccessList{"public"} : s.acl;
  for (const auto& e : acl)
    if (!ValidAccessEntry(e))
      return Status(ErrorKind::kInvalidArgument, "--acl '" + e + "' is not public, user:LOGIN or group:NAME");
  *cfg = {{"url", url}, {"sitemaps", sitemaps}, {"feeds", feeds}, {"max_pages", s.max_pages},
          {"acl", acl}, {"requests_per_minute", s.requests_per_minute}};
  return Status::Ok();
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
  if (s.name.empty()) return Status(ErrorKind::kInvalidArgument, "a source needs a --name");
  for (char c : s.name)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return Status(ErrorKind::kInvalidArgument,
                    "source name '" + s.name + "' may only hold letters, digits, '-', '_' and '.' "
                    "(it names the group in access lists)");
  json cfg;
  if (s.kind == "slack-export") {
    std::error_code ec;
    if (s.path.empty() || !std::filesystem::exists(s.path, ec))
      return Status(ErrorKind::kNotFound, "cannot read Slack export " + s.path + ": no such file or folder");
    cfg["path"] = std::filesystem::absolute(s.path, ec).lexically_normal().string();
    cfg["domain"] = s.domain.empty() ? s.name : s.domain;
  } else if (s.kind == "confluence-export") {
    std::error_code ec;
    if (s.path.empty() || !std::filesystem::exists(s.path, ec))
      return Status(ErrorKind::kNotFound, "cannot read Confluence export " + s.path + ": no such file or folder");
    if (s.spaces.size() > 1) return Status(ErrorKind::kInvalidArgument, "a Confluence export holds one space: one --space");
    for (const auto& e : s.acl)
      if (!ValidAccessEntry(e))
        return Status(ErrorKind::kInvalidArgument, "--acl '" + e + "' is not public, user:LOGIN or group:NAME");
    cfg["path"] = std::filesystem::absolute(s.path, ec).lexically_normal().string();
    cfg["space"] = s.spaces.empty() ? "" : s.spaces[0];
    cfg["acl"] = s.acl;
  } else if (s.kind == "slack" || s.kind == "confluence") {
    if (s.kind == "confluence") {
      if (s.base_url.rfind("http://", 0) != 0 && s.base_url.rfind("https://", 0) != 0)
        return Status(ErrorKind::kInvalidArgument, "source add confluence needs --base-url http(s)://...");
      cfg["base_url"] = s.base_url;
      cfg["user"] = s.user;
      cfg["spaces"] = s.spaces;
    }
    auto token = ReadFile(s.token_file);
    if (!token.ok()) return Status(ErrorKind::kNotFound, "cannot read the token file " + s.token_file);
    std::string t = TrimToken(*token);
    if (t.empty()) return Status(ErrorKind::kInvalidArgument, "the token file " + s.token_file + " is empty");
    SAVOIR_ASSIGN_OR_RETURN(SecretKey key, SecretKey::FromConfig(config));
    if (s.kind == "slack") cfg["api_url"] = s.api_url;
    cfg["requests_per_minute"] = s.requests_per_minute;
    cfg["token"] = key.Seal(t);
  } else if (s.kind == "web") {
    SAVOIR_RETURN_IF_ERROR(WebConfig(s, &cfg));
  } else {
    return Status(ErrorKind::kInvalidArgument, "unknown source kind '" + s.kind + "' (slack-export, slack, confluence, confluence-export, web)");
  }
  if (s.interval_min >= 0) cfg["interval_min"] = s.interval_min;
  SAVOIR_ASSIGN_OR_RETURN(auto sources, store.ListSources());
  for (const auto& existing : sources)
    if (existing.name == s.name)
      return Status(ErrorKind::kAlreadyExists, "a source named '" + s.name + "' already exists (id " +
                                                   std::to_string(existing.id) + ")");
  return store.EnsureSource(s.kind, s.name, cfg.dump());
}

Result<std::unique_ptr<Connector>> MakeConnector(const SourceRecord& source, const Config& config) {
  json cfg = json::parse(source.config_json, nullptr, false);
  if (!cfg.is_object())
    return Status(ErrorKind::kCorrupt, "source " + std::to_string(source.id) + " has an unreadable configuration");
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
    return NewSlackApiConnector(o);
  }
  if (source.kind == "web") {
    WebOptions o;
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

}  // namespace savoir
