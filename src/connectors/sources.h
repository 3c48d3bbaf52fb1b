// Connector sources as the CLI and (later) the scheduler see them: adding
// one (credentials sealed before they reach the store), building the
// connector a stored source describes, and syncing sources one by one so a
// failing source never stops the others.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/config.h"
#include "connectors/connector.h"
#include "connectors/sync.h"
#include "store/store.h"

namespace savoir {

struct NewSource {
  std::string kind;  // "slack-export", "slack", "confluence" or "web"
  std::string name;
  std::string path;        // slack-export: folder or zip
  std::string domain;      // slack-export: workspace domain for permalinks (default: name)
  std::string token_file;  // slack: file holding the token
  std::string api_url = "https://slack.com/api";
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
Result<int64_t> AddSource(Store& store, const Config& config, const NewSource& source);

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
