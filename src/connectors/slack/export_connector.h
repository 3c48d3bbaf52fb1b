// Slack workspace export (the folder or the .zip Slack produces):
// users.json, channels.json (public), groups.json / mpims.json / dms.json
// (private, when the export includes them), and one folder per conversation
// with one JSON file per day. Every run reads the whole export; the sync
// framework skips documents whose hash did not change, and documents no
// longer produced (a day file deleted) are removed.
#pragma once

#include <memory>
#include <string>

#include "connectors/connector.h"

namespace savoir {

struct SlackExportOptions {
  std::string path;         // folder or .zip
  std::string source_name;  // names the workspace group in access lists
  std::string domain;       // permalinks: https://<domain>.slack.com/...; defaults to source_name
  size_t batch_size = 200;
};

std::unique_ptr<Connector> NewSlackExportConnector(const SlackExportOptions& options);

}  // namespace savoir
