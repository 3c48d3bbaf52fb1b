// Connector sources as the CLI and (later) the scheduler see them: adding
// one (credentials sealed before they reach the store), building the
// connector a stored source describes, and syncing sources one by one so a
// failing source never stops the others.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/config.h"
#include "connectors/connector.h"
#include "connectors/sync.h"
#include "store/store.h"

namespace savoir {

struct NewSource {
  std::string kind;  // "slack-export", "slack", "confluence", "confluence-export" or "web"
  std::string name;
  // Error messages name the JSON field (config.url) instead of the CLI flag (--url).
  bool api = false;
  std::string path;        // slack-export: folder or zip
  std::string domain;      // slack-export: workspace domain for permalinks (default: name)
  std::string token_file;  // slack, confluence, web: file holding the token (CLI)
  std::string token;       // slack, confluence, web: the token itself (API); token_file wins
  // web: how the (optional) credential is sent to the site's own origins:
  // "bearer" (default), "basic" (the credential is user:password) or
  // "header" (the credential is a whole "Name: value" line, e.g. a Cookie).
  std::string auth;
  std::string api_url = "https://slack.com/api";
  double rescan_days = -1;           // slack: full re-scan period in days (< 0: the default, 7; 0: never)
  double requests_per_minute = 50;  // slack, confluence, web: this source's own budget
  std::string url;                    // web: the site (crawled without sitemap/feed)
  std::vector<std::string> sitemaps;  // web
  std::vector<std::string> feeds;     // web
  int max_pages = 1000;               // web
  AccessList acl;                     // web: who may read the pages (default public)
  std::string base_url;             // confluence: site URL (".../wiki" on Cloud)
  std::string user;                 // confluence: Cloud account e-mail; empty: bearer PAT
  std::vector<std::string> spaces;  // confluence: space keys (empty: all)
  double interval_min = -1;         // own sync interval in minutes (0: manual only; < 0: the default)
};

// Validates and stores the source; its credential is encrypted with the
// configured secret key (an error names what is missing, never the secret).
// Nothing is stored when validation fails. The CLI (`savoir source add`) and
// the API (`POST /api/sources`) both come here.
Result<int64_t> AddSource(Store& store, const Config& config, const NewSource& source);

// The API's body {"kind", "name", "config": {...}, "credential", "interval_min"}
// as a NewSource. Errors name the field: "config.url: 'ftp://x' is not an
// http(s) URL", "kind: unknown source kind 'x' ...", unknown config fields.
Result<NewSource> NewSourceFromJson(const nlohmann::json& body);

// `PATCH /api/sources/{id}`: {"interval_min": N|null, "config": {...},
// "credential": "..."}, each optional. "config" fields replace the stored ones
// (the kind's own fields, as in NewSourceFromJson; kind and name cannot
// change); "credential" replaces the sealed token; "interval_min" null goes
// back to the server default. Validated as a whole before anything is
// written.
Status UpdateSource(Store& store, const Config& config, int64_t id, const nlohmann::json& patch);

// Whether the source holds a (sealed) credential: all the API says of it.
bool SourceHasCredential(const SourceRecord& source);

// The header line a web source's credential is sent as: `auth` "bearer" (or
// empty) gives "Authorization: Bearer C", "basic" (C is user:password)
// "Authorization: Basic base64(C)", "header" C itself ("Name: value").
// kInvalidArgument says what is wrong with C, never C.
Result<std::string> WebAuthHeader(const std::string& auth, const std::string& credential);

// The connector for a stored source; kUnsupported for kinds without one
// (e.g. "files", synced by `savoir index`).
Result<std::unique_ptr<Connector>> MakeConnector(const SourceRecord& source, const Config& config);

bool IsConnectorKind(const std::string& kind);

// Seconds between two scheduled syncs of `source`: its own "interval_min"
// (0: manual only) when its configuration has one, else --sync-interval-s
// when above 0, else --sync-interval-min.
int64_t SyncIntervalSeconds(const SourceRecord& source, const Config& config);

// Builds the source's connector and runs it (SyncConnector). With
// `catch_up_index`, the index follows the sync every 2,000 changed documents
// instead of taking them all at the end (bounded memory, earlier results). A source whose
// connector cannot be built still gets its SyncStatus recorded (the error,
// the next run), so a stuck source shows why and the others go on.
Status SyncSource(Store& store, const Config& config, const SourceRecord& source, const IngestOptions& ingest,
                  ConnectorSyncSummary* summary, std::function<bool()> cancelled = nullptr,
                  std::function<Status()> catch_up_index = nullptr);

}  // namespace savoir
