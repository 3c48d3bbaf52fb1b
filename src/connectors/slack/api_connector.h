// Slack through its Web API (a bot or user token with channels:history,
// groups:history, channels:read, groups:read, users:read; with im:read,
// im:history, mpim:read, mpim:history also DMs and group DMs).
//
// Incremental: the checkpoint keeps, per channel, the newest message ts
// seen. The next run fetches from the start of the UTC day `refetch_days`
// before it, so edits and deletions within that window are noticed (each
// day group and thread in it is rebuilt and compared); older ones are seen
// by the full re-scan each channel gets every `rescan_days`.
// Private channels' members are read every run and applied to all of the
// channel's stored documents. Each channel commits with its checkpoint, so
// a killed run redoes at most the channel it was in.
#pragma once

#include <memory>
#include <string>

#include "connectors/connector.h"
#include "net/http_client.h"

namespace savoir {

struct SlackApiOptions {
  std::string api_url = "https://slack.com/api";
  std::string token;        // decrypted; never logged
  std::string source_name;  // names the workspace group in access lists
  int refetch_days = 7;
  // Every rescan_days (per channel) a run fetches the whole history again, so
  // edits and deletions older than the refetch window and new replies to
  // old threads are noticed; 0: never.
  double rescan_days = 7;
  int page_size = 200;
  HttpOptions http;
};

std::unique_ptr<Connector> NewSlackApiConnector(const SlackApiOptions& options);

}  // namespace savoir
