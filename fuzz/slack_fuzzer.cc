// Slack payload readers (connectors/slack): an export day file or an API
// page of messages (a JSON array, or an object with "messages"), a channel
// or user object, and raw message markup. Hostile payloads (wrong types,
// huge or odd timestamps, nested junk) must never throw or crash, and every
// document made from them is one the store accepts.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "connectors/slack/markup.h"
#include "connectors/slack/slack_model.h"
#include "fuzz_target.h"

SAVOIR_FUZZ_TARGET(slack) {
  using namespace savoir;
  std::string_view in = fuzz::AsView(data, size);
  SlackWorkspace ws;
  ws.source_name = "fuzz";
  ws.domain = "acme";
  ws.names.users = {{"U1", "Ada"}, {"U2", "Bob"}};
  ws.names.channels = {{"C1", "general"}};
  (void)RenderSlackText(in, ws.names);

  auto j = nlohmann::json::parse(in.begin(), in.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  const nlohmann::json* messages = j.is_array() ? &j : nullptr;
  SlackChannel channel;
  if (j.is_object()) {
    channel = SlackChannelFromJson(j, /*is_private=*/j.contains("members"));
    (void)SlackUserDisplayName(j);
    if (auto it = j.find("messages"); it != j.end() && it->is_array()) messages = &*it;
  }
  if (channel.id.empty()) channel.id = "C1";
  if (!messages) return 0;
  std::vector<SlackMessage> parsed;
  for (const auto& m : *messages) {
    SlackMessage msg = SlackMessageFromJson(m);
    (void)SlackTsSeconds(msg.ts);
    (void)SlackTsDay(msg.ts);
    parsed.push_back(std::move(msg));
  }
  for (const ConnectorDocument& d : SlackDocuments(ws, channel, std::move(parsed))) {
    SAVOIR_FUZZ_CHECK(!d.external_id.empty());
    SAVOIR_FUZZ_CHECK(!d.acl.empty());
    SAVOIR_FUZZ_CHECK(d.external_id.rfind(channel.id + "/", 0) == 0);
  }
  return 0;
}
