// `savoir source ...`: connector sources. Credentials never reach the
// terminal: `list` shows no configuration, errors name files, not secrets.
#include <chrono>
#include <cstdio>
#include <ctime>

#include "cli/commands.h"
#include "connectors/sources.h"
#include "connectors/sync.h"
#include "retrieve/engine.h"

namespace savoir {
namespace {

std::string When(int64_t t) {
  if (t == 0) return "never";
  time_t tt = t;
  struct tm tm {};
  localtime_r(&tt, &tm);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M", &tm);
  return buf;
}

Result<int64_t> ParseId(const std::string& s) {
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end || v <= 0) return Status(ErrorKind::kInvalidArgument, "'" + s + "' is not a source id");
  return static_cast<int64_t>(v);
}

}  // namespace

int CmdSourceAdd(const Config& config, const CommandArgs& args) {
  NewSource s;
  s.kind = args.source_kind;
  s.name = args.source_name;
  s.path = args.source_path;
  s.domain = args.workspace;
  s.token_file = args.token_file;
  if (!args.api_url.empty()) s.api_url = args.api_url;
  s.requests_per_minute = args.rate_per_minute;
  s.url = args.site_url;
  s.auth = args.web_auth;
  s.sitemaps = args.sitemaps;
  s.feeds = args.feeds;
  s.max_pages = args.max_pages;
  s.acl = args.acl;
  s.base_url = args.base_url;
  s.user = args.account;
  s.spaces = args.spaces;
  s.interval_min = args.interval_min;
  s.rescan_days = args.rescan_days;
  if ((s.kind == "slack-export" || s.kind == "confluence-export") && s.path.empty())
    return Fail("source add " + s.kind + " needs --path DIR|ZIP");
  if ((s.kind == "slack" || s.kind == "confluence") && s.token_file.empty())
    return Fail("source add " + s.kind + " needs --token-file FILE");
  if (s.kind == "confluence" && s.base_url.empty()) return Fail("source add confluence needs --base-url URL");
  if (s.kind == "web" && s.url.empty()) return Fail("source add web needs --url URL");
  auto engine = Engine::Open(config);
  if (!engine.ok()) return Fail(engine.status().message());
  auto id = AddSource((*engine)->store(), config, s);
  if (!id.ok()) return Fail(id.status().message());
  std::printf("added source %lld (%s %s); run `savoir source sync %lld`\n", static_cast<long long>(*id),
              s.kind.c_str(), s.name.c_str(), static_cast<long long>(*id));
  return 0;
}

int CmdSourceList(const Config& config) {
  auto engine = Engine::Open(config);
  if (!engine.ok()) return Fail(engine.status().message());
  Store& store = (*engine)->store();
  auto sources = store.ListSources();
  if (!sources.ok()) return Fail(sources.status().message());
  std::printf("%-4s %-13s %-24s %9s  %-16s  %-16s  %5s  %s\n", "id", "kind", "name", "documents", "last success",
              "next run", "seen", "last error");
  for (const auto& s : *sources) {
    auto st = store.GetSyncStatus(s.id);
    std::string error = st.ok() ? (st->errors.empty() ? "" : st->errors.back()) : st.status().message();
    if (st.ok() && st->errors.size() > 1) error += " (+" + std::to_string(st->errors.size() - 1) + " more)";
    // Files sources are indexed by `savoir index`, never by the scheduler.
    std::string next = !IsConnectorKind(s.kind) ? "-" : !st.ok() ? "?"
                       : st->next_run == 0 ? (SyncIntervalSeconds(s, config) > 0 ? "due" : "manual")
                                           : When(st->next_run);
    std::string seen = st.ok() && st->last_attempt > 0 ? std::to_string(st->documents_seen) : "-";
    std::printf("%-4lld %-13s %-24s %9lld  %-16s  %-16s  %5s  %s\n", static_cast<long long>(s.id), s.kind.c_str(),
                s.name.c_str(), static_cast<long long>(s.documents),
                st.ok() ? When(st->last_success).c_str() : "?", next.c_str(), seen.c_str(), error.c_str());
  }
  return 0;
}

int CmdSourceSync(const Config& config, const CommandArgs& args) {
  if (args.all == !args.source_id.empty()) return Fail("source sync needs a source id or --all (not both)");
  auto engine = Engine::Open(config);
  if (!engine.ok()) return Fail(engine.status().message());
  Engine& e = **engine;
  std::vector<SourceRecord> todo;
  if (args.all) {
    auto sources = e.store().ListSources();
    if (!sources.ok()) return Fail(sources.status().message());
    for (auto& s : *sources)
      if (IsConnectorKind(s.kind)) todo.push_back(std::move(s));
  } else {
    auto id = ParseId(args.source_id);
    if (!id.ok()) return Fail(id.status().message());
    auto s = e.store().GetSource(*id);
    if (!s.ok()) return Fail(s.status().message());
    todo.push_back(std::move(s).value());
  }
  int rc = 0;
  for (const auto& s : todo) {
    auto t0 = std::chrono::steady_clock::now();
    ConnectorSyncSummary sum;
    Status st = SyncSource(e.store(), config, s, e.ingest_options(), &sum, nullptr, [&] { return e.CatchUp(); });
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("source %lld %s: seen %zu, added %zu, updated %zu, unchanged %zu, removed %zu, errors %zu in %.2f s\n",
                static_cast<long long>(s.id), s.name.c_str(), sum.seen, sum.added, sum.updated, sum.unchanged,
                sum.removed, sum.errors.size(), secs);
    for (const auto& err : sum.errors) std::printf("  error: %s\n", err.c_str());
    if (!st.ok()) {
      std::fprintf(stderr, "savoir: source %lld: %s\n", static_cast<long long>(s.id), st.message().c_str());
      rc = 1;
    }
  }
  Status st = e.CatchUp();
  if (!st.ok()) return Fail("index update failed: " + st.message());
  return rc;
}

int CmdSourceRemove(const Config& config, const CommandArgs& args) {
  auto id = ParseId(args.source_id);
  if (!id.ok()) return Fail(id.status().message());
  auto engine = Engine::Open(config);
  if (!engine.ok()) return Fail(engine.status().message());
  auto s = (*engine)->store().GetSource(*id);
  if (!s.ok()) return Fail(s.status().message());
  auto docs = (*engine)->store().ListDocuments(*id);
  if (docs.ok()) s->documents = static_cast<int64_t>(docs->size());
  Status st = (*engine)->store().DeleteSource(*id);
  if (!st.ok()) return Fail(st.message());
  st = (*engine)->CatchUp();
  if (!st.ok()) return Fail("index update failed: " + st.message());
  std::printf("removed source %lld (%s) and its %lld documents\n", static_cast<long long>(*id), s->name.c_str(),
              static_cast<long long>(s->documents));
  return 0;
}

}  // namespace savoir
