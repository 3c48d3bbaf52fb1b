// What Slack's export and Web API have in common: channels, users, messages,
// and how messages become documents. Both connectors feed this one model so
// a workspace indexed either way yields the same documents.
//
// Documents: a thread (parent + replies, grouped by thread_ts) is one
// document, external id "<channel>/<thread_ts>"; the other messages of a
// channel are grouped per day into one document, "<channel>/<YYYY-MM-DD>".
// Access (until identity lands, Slack's own identities; docs/connectors.md):
// public channel -> "group:slack-workspace:<source name>"; private channel,
// group DM, DM -> "user:slack:<member id>" for each member.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "connectors/connector.h"
#include "connectors/slack/markup.h"

namespace savoir {

struct SlackChannel {
  std::string id, name;  // name empty for DMs
  bool is_private = false;
  std::vector<std::string> members;
};

struct SlackMessage {
  std::string ts, thread_ts, user, username, subtype, text;
  std::string day;  // YYYY-MM-DD: the export's file, or the UTC day of ts
  int64_t edited = 0;  // unix seconds of the last edit, 0 if never
};

struct SlackWorkspace {
  std::string source_name;  // names the workspace group in access lists
  std::string domain;       // "acme" for acme.slack.com permalinks
  SlackNames names;
};

// Joins, leaves and similar housekeeping say nothing worth finding.
bool IsNoiseSubtype(const std::string& subtype);

// "1449182310.000002" -> 1449182310 (0 when malformed or past the year 9999).
int64_t SlackTsSeconds(const std::string& ts);
// UTC day of a ts, "YYYY-MM-DD".
std::string SlackTsDay(const std::string& ts);

AccessList SlackChannelAccess(const SlackChannel& channel, const std::string& source_name);
std::string SlackPermalink(const SlackWorkspace& ws, const std::string& channel, const std::string& ts);
// "C123/1449182310.000002" (thread) or "C123/2015-12-03" (day group).
bool IsSlackDayId(const std::string& external_id);

// The same JSON shapes in exports and API responses.
SlackMessage SlackMessageFromJson(const nlohmann::json& j);
SlackChannel SlackChannelFromJson(const nlohmann::json& j, bool is_private);
// profile.display_name, else real_name, else the user name.
std::string SlackUserDisplayName(const nlohmann::json& user);

// Groups one channel's messages (any order) into documents.
std::vector<ConnectorDocument> SlackDocuments(const SlackWorkspace& ws, const SlackChannel& channel,
                                              std::vector<SlackMessage> messages);

}  // namespace savoir
