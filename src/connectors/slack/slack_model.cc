#include "connectors/slack/slack_model.h"

#include <algorithm>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/json_read.h"

namespace savoir {
namespace {

std::string FirstWords(const std::string& text, size_t max_words) {
  std::string out;
  size_t words = 0;
  bool in_word = false;
  for (char c : text) {
    bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (space) {
      if (in_word && ++words == max_words) return out + "…";
      in_word = false;
      continue;
    }
    if (!in_word && !out.empty()) out += ' ';
    in_word = true;
    out += c;
  }
  return out;
}

std::string AuthorName(const SlackWorkspace& ws, const SlackMessage& m) {
  if (auto it = ws.names.users.find(m.user); it != ws.names.users.end() && !it->second.empty()) return it->second;
  if (!m.username.empty()) return m.username;
  return m.user.empty() ? "unknown" : m.user;
}

std::string HourMinute(const std::string& ts) {
  time_t t = SlackTsSeconds(ts);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[8];
  strftime(buf, sizeof(buf), "%H:%M", &tm);
  return buf;
}

}  // namespace

bool IsNoiseSubtype(const std::string& s) {
  static const std::set<std::string> noise = {
      "channel_join", "channel_leave", "group_join", "group_leave", "channel_archive",
      "channel_unarchive", "group_archive", "group_unarchive", "bot_add", "bot_remove",
      "pinned_item", "unpinned_item", "tombstone"};
  return noise.count(s) > 0;
}

int64_t SlackTsSeconds(const std::string& ts) {
  constexpr int64_t kLast = 253402300799;  // 9999-12-31T23:59:59Z: past it, a ts is malformed
  int64_t v = 0;
  for (char c : ts) {
    if (c == '.') break;
    if (c < '0' || c > '9') return 0;
    v = v * 10 + (c - '0');
    if (v > kLast) return 0;
  }
  return v;
}

std::string SlackTsDay(const std::string& ts) {
  time_t t = SlackTsSeconds(ts);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[16];
  strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
  return buf;
}

SlackMessage SlackMessageFromJson(const nlohmann::json& j) {
  SlackMessage m;
  if (!j.is_object()) return m;
  m.ts = JsonString(j, "ts");
  m.thread_ts = JsonString(j, "thread_ts");
  m.user = JsonString(j, "user");
  m.username = JsonString(j, "username");
  m.subtype = JsonString(j, "subtype");
  m.text = JsonString(j, "text");
  if (auto e = j.find("edited"); e != j.end() && e->is_object()) m.edited = SlackTsSeconds(JsonString(*e, "ts"));
  m.day = SlackTsDay(m.ts);
  return m;
}

SlackChannel SlackChannelFromJson(const nlohmann::json& j, bool is_private) {
  SlackChannel c;
  c.id = JsonString(j, "id");
  c.name = JsonString(j, "name");
  c.is_private = is_private || JsonBool(j, "is_private") || JsonBool(j, "is_group") ||
                 JsonBool(j, "is_im") || JsonBool(j, "is_mpim");
  if (auto m = j.find("members"); m != j.end() && m->is_array())
    for (const auto& u : *m)
      if (u.is_string()) c.members.push_back(u.get<std::string>());
  if (auto u = j.find("user"); c.members.empty() && u != j.end() && u->is_string())
    c.members.push_back(u->get<std::string>());  // a DM from conversations.list names its one peer
  return c;
}

std::string SlackUserDisplayName(const nlohmann::json& u) {
  if (auto p = u.find("profile"); p != u.end() && p->is_object()) {
    if (std::string d = JsonString(*p, "display_name"); !d.empty()) return d;
    if (std::string r = JsonString(*p, "real_name"); !r.empty()) return r;
  }
  if (std::string r = JsonString(u, "real_name"); !r.empty()) return r;
  return JsonString(u, "name");
}

AccessList SlackChannelAccess(const SlackChannel& channel, const std::string& source_name) {
  if (!channel.is_private) return {"group:slack-workspace:" + source_name};
  AccessList acl;
  for (const auto& m : channel.members) acl.push_back("user:slack:" + m);
  std::sort(acl.begin(), acl.end());
  acl.erase(std::unique(acl.begin(), acl.end()), acl.end());
  return acl;
}

std::string SlackPermalink(const SlackWorkspace& ws, const std::string& channel, const std::string& ts) {
  std::string p;
  for (char c : ts)
    if (c != '.') p += c;
  return "https://" + ws.domain + ".slack.com/archives/" + channel + "/p" + p;
}

bool IsSlackDayId(const std::string& ext) {
  size_t slash = ext.rfind('/');
  return slash != std::string::npos && ext.size() - slash - 1 == 10 && ext[slash + 5] == '-';
}

std::vector<ConnectorDocument> SlackDocuments(const SlackWorkspace& ws, const SlackChannel& channel,
                                              std::vector<SlackMessage> messages) {
  std::sort(messages.begin(), messages.end(),
            [](const SlackMessage& a, const SlackMessage& b) { return a.ts < b.ts; });
  // Ordered maps: documents come out in a stable order run after run.
  std::map<std::string, std::vector<const SlackMessage*>> threads, days;
  for (const auto& m : messages) {
    if (IsNoiseSubtype(m.subtype)) continue;
    if (!m.thread_ts.empty()) threads[m.thread_ts].push_back(&m);
    else days[m.day].push_back(&m);
  }
  const AccessList acl = SlackChannelAccess(channel, ws.source_name);
  // A DM has no name: "DM ada, Bob Noyce" from its members.
  std::string label = "#" + channel.name;
  if (channel.name.empty()) {
    label = channel.members.empty() ? channel.id : "DM";
    for (size_t i = 0; i < channel.members.size(); ++i) {
      auto u = ws.names.users.find(channel.members[i]);
      label += (i ? ", " : " ") + (u != ws.names.users.end() && !u->second.empty() ? u->second : channel.members[i]);
    }
  }
  std::vector<ConnectorDocument> out;
  auto make = [&](const std::string& key, const std::string& kind, const std::string& anchor_ts,
                  const std::vector<const SlackMessage*>& group) {
    ConnectorDocument d;
    d.external_id = channel.id + "/" + key;
    d.acl = acl;
    std::string first_text;
    for (const SlackMessage* m : group) {
      std::string body = RenderSlackText(m->text, ws.names);
      if (body.empty()) continue;
      if (first_text.empty()) first_text = body;
      if (!d.text.empty()) d.text += "\n\n";
      d.text += AuthorName(ws, *m) + " (" + m->day + " " + HourMinute(m->ts) + "): " + body;
      d.updated_at = std::max({d.updated_at, SlackTsSeconds(m->ts), m->edited});
    }
    if (d.text.empty()) return;  // nothing readable (e.g. only file shares without text)
    d.title = label + " — " + FirstWords(first_text, 8);
    d.author = AuthorName(ws, *group.front());
    d.url = SlackPermalink(ws, channel.id, anchor_ts);
    d.created_at = SlackTsSeconds(group.front()->ts);
    d.metadata_json = nlohmann::json{{"channel", channel.id}, {"channel_name", channel.name},
                                     {"kind", kind}, {"messages", group.size()}}
                          .dump();
    out.push_back(std::move(d));
  };
  for (const auto& [ts, group] : threads) make(ts, "thread", ts, group);
  for (const auto& [day, group] : days) make(day, "day", group.front()->ts, group);
  return out;
}

}  // namespace savoir
