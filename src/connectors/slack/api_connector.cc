#include "connectors/slack/api_connector.h"

#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/json_read.h"
#include "connectors/slack/slack_model.h"

namespace savoir {
namespace {
using json = nlohmann::json;

// Errors that mean the whole source is unusable, not one channel.
bool IsCredentialError(const std::string& e) {
  return e == "invalid_auth" || e == "not_authed" || e == "token_revoked" || e == "token_expired" ||
         e == "account_inactive" || e == "missing_scope";
}

class SlackApiConnector final : public Connector {
 public:
  explicit SlackApiConnector(SlackApiOptions opt) : opt_(std::move(opt)), http_(opt_.http) {}

  Status Run(const std::string& checkpoint, SyncContext& ctx) override {
    json cp = json::parse(checkpoint.empty() ? "{}" : checkpoint, nullptr, false);
    if (!cp.is_object()) cp = json::object();
    if (!cp.contains("channels") || !cp["channels"].is_object()) cp["channels"] = json::object();

    SlackWorkspace ws;
    ws.source_name = opt_.source_name;
    SAVOIR_ASSIGN_OR_RETURN(json auth, Call("auth.test", {}));
    ws.domain = DomainOf(JsonString(auth, "url"));
    if (ws.domain.empty()) ws.domain = opt_.source_name;

    SAVOIR_ASSIGN_OR_RETURN(auto users, Paged("users.list", {}, "members"));
    for (const auto& u : users) ws.names.users[JsonString(u, "id")] = SlackUserDisplayName(u);
    // DMs and group DMs too when the token may list them (im:read,
    // mpim:read); without those scopes Slack answers missing_scope and the
    // channels are synced alone (the DMs' stored documents then go, like
    // any conversation the token can no longer list).
    std::string dm_note;
    last_slack_error_.clear();
    auto listed = Paged("conversations.list",
                        {{"types", "public_channel,private_channel,mpim,im"}, {"exclude_archived", "false"}}, "channels");
    if (!listed.ok() && last_slack_error_ == "missing_scope") {
      dm_note = "direct messages and group DMs not synced: the token lacks " +
                (last_needed_.empty() ? std::string("im:read, mpim:read") : last_needed_) +
                " (Slack: missing_scope); add the scopes (and im:history, mpim:history) to sync them";
      listed = Paged("conversations.list", {{"types", "public_channel,private_channel"}, {"exclude_archived", "false"}},
                     "channels");
    }
    if (!listed.ok()) return listed.status();
    std::vector<SlackChannel> channels;
    for (const auto& c : *listed) {
      SlackChannel ch = SlackChannelFromJson(c, false);
      ch.members.clear();  // conversations.list does not list members reliably
      if (ch.id.empty()) continue;
      ws.names.channels[ch.id] = ch.name;
      channels.push_back(std::move(ch));
    }

    const int64_t now = std::time(nullptr);
    std::set<std::string> live_channels;
    for (auto& ch : channels) {
      live_channels.insert(ch.id);
      ConnectorBatch batch;
      Status st = SyncChannel(ws, ch, cp, now, ctx, &batch);
      if (!st.ok()) {
        if (st.kind() == ErrorKind::kPermissionDenied) return st;  // the token itself
        // One channel failing (not_in_channel, a server error that outlived
        // the retries) costs that channel only; its documents stay.
        batch = ConnectorBatch();
        batch.errors.push_back("#" + ch.name + " (" + ch.id + "): " + st.message());
      }
      batch.checkpoint = cp.dump();
      SAVOIR_RETURN_IF_ERROR(ctx.emit(batch));
    }
    // Channels no longer listed (deleted, or the token lost access): their
    // documents go, rather than stay readable under an outdated list.
    ConnectorBatch last;
    if (!dm_note.empty()) last.errors.push_back(dm_note);
    for (const auto& [ext, id] : ctx.stored)
      if (!live_channels.count(ext.substr(0, ext.find('/')))) last.deletions.push_back(ext);
    for (auto it = cp["channels"].begin(); it != cp["channels"].end();)
      it = live_channels.count(it.key()) ? std::next(it) : cp["channels"].erase(it);
    last.checkpoint = cp.dump();
    return ctx.emit(last);
  }

 private:
  Status SyncChannel(const SlackWorkspace& ws, SlackChannel& ch, json& cp, int64_t now, SyncContext& ctx,
                     ConnectorBatch* batch) {
    if (ch.is_private) {  // private channels, DMs and group DMs
      SAVOIR_ASSIGN_OR_RETURN(auto members, Paged("conversations.members", {{"channel", ch.id}}, "members"));
      for (const auto& m : members)
        if (m.is_string()) ch.members.push_back(m.get<std::string>());
      if (ch.members.empty()) return Status(ErrorKind::kNotFound, "no members listed for a private channel");
    }
    json& state = cp["channels"][ch.id];
    if (!state.is_object()) state = json::object();
    std::string latest = JsonString(state, "latest");
    // Full re-scan every rescan_days: edits and deletions older than the
    // refetch window, and new replies to old threads, are picked up then.
    const bool full = latest.empty() ||
                      (opt_.rescan_days > 0 && now - JsonInt(state, "full_at") >= opt_.rescan_days * 86400);
    // Refetch window: whole UTC days, so each day group is rebuilt complete.
    int64_t oldest = 0;
    if (!full) {
      oldest = SlackTsSeconds(latest) - int64_t{opt_.refetch_days} * 86400;
      oldest -= oldest % 86400;
      if (oldest < 0) oldest = 0;
    }
    std::map<std::string, std::string> params = {{"channel", ch.id}};
    if (oldest > 0) params["oldest"] = std::to_string(oldest) + ".000000";
    SAVOIR_ASSIGN_OR_RETURN(auto history, Paged("conversations.history", params, "messages"));

    std::map<std::string, SlackMessage> messages;  // by ts: replies repeat the parent
    for (const auto& j : history) {
      SlackMessage m = SlackMessageFromJson(j);
      if (m.ts.empty()) continue;
      if (JsonInt(j, "reply_count") > 0) {
        SAVOIR_ASSIGN_OR_RETURN(auto replies,
                                Paged("conversations.replies", {{"channel", ch.id}, {"ts", m.ts}}, "messages"));
        for (const auto& r : replies) {
          SlackMessage rm = SlackMessageFromJson(r);
          if (!rm.ts.empty()) {
            if (rm.thread_ts.empty()) rm.thread_ts = m.ts;
            messages[rm.ts] = std::move(rm);
          }
        }
      }
      if (latest.empty() || m.ts > latest) latest = m.ts;
      messages.emplace(m.ts, std::move(m));
    }
    std::vector<SlackMessage> list;
    for (auto& [ts, m] : messages) list.push_back(std::move(m));

    std::set<std::string> produced;
    for (auto& d : SlackDocuments(ws, ch, std::move(list))) {
      produced.insert(d.external_id);
      batch->upserts.push_back(std::move(d));
    }
    // Inside the window everything was fetched again: a stored day group or
    // thread there that was not produced was deleted in Slack.
    const std::string prefix = ch.id + "/";
    const std::string oldest_day = SlackTsDay(std::to_string(oldest));
    for (const auto& [ext, id] : ctx.stored) {
      if (ext.compare(0, prefix.size(), prefix) != 0 || produced.count(ext)) continue;
      std::string key = ext.substr(prefix.size());
      bool in_window = IsSlackDayId(ext) ? key >= oldest_day : SlackTsSeconds(key) >= oldest;
      if (in_window) batch->deletions.push_back(ext);
    }
    batch->access_changes.push_back({prefix, SlackChannelAccess(ch, ws.source_name)});
    if (!latest.empty()) state["latest"] = latest;
    if (full) state["full_at"] = now;
    return Status::Ok();
  }

  static std::string DomainOf(const std::string& url) {  // "https://acme.slack.com/" -> "acme"
    size_t start = url.find("://");
    if (start == std::string::npos) return "";
    start += 3;
    size_t dot = url.find(".slack.com", start);
    return dot == std::string::npos ? "" : url.substr(start, dot - start);
  }

  // One Web API call: the HTTP client retries 429/5xx; a Slack-level
  // {"ok":false} is mapped to an error naming the method and Slack's code.
  Result<json> Call(const std::string& method, const std::map<std::string, std::string>& params) {
    std::string url = opt_.api_url + "/" + method;
    char sep = '?';
    for (const auto& [k, v] : params) {
      url += sep + k + "=" + UrlEncode(v);
      sep = '&';
    }
    SAVOIR_ASSIGN_OR_RETURN(HttpResponse r, http_.Get(url, {"Authorization: Bearer " + opt_.token}));
    json j = json::parse(r.body, nullptr, false);
    if (!j.is_object()) {
      return Status(ErrorKind::kUnavailable,
                    method + ": HTTP " + std::to_string(r.status) + " with a body that is not Slack's JSON");
    }
    if (!JsonBool(j, "ok")) {
      std::string error = JsonString(j, "error", "unknown_error");
      last_slack_error_ = error;
      last_needed_ = JsonString(j, "needed");
      if (error == "missing_scope" && method == "conversations.list" && params.count("types") &&
          params.at("types").find("im") != std::string::npos)
        return Status(ErrorKind::kUnavailable, method + ": Slack error missing_scope");  // retried without DMs
      if (IsCredentialError(error))
        return Status(ErrorKind::kPermissionDenied, "Slack refused the token (" + error + ") on " + method +
                                                        "; replace it on the admin page or with PATCH /api/sources/ID {\"credential\": ...}");
      return Status(ErrorKind::kUnavailable, method + ": Slack error " + error);
    }
    return j;
  }

  // Cursor paging: follows response_metadata.next_cursor until empty.
  Result<std::vector<json>> Paged(const std::string& method, std::map<std::string, std::string> params,
                                  const std::string& field) {
    std::vector<json> out;
    params["limit"] = std::to_string(opt_.page_size);
    for (int page = 0; page < 100000; ++page) {
      SAVOIR_ASSIGN_OR_RETURN(json j, Call(method, params));
      if (auto it = j.find(field); it != j.end() && it->is_array())
        for (auto& x : *it) out.push_back(std::move(x));
      std::string cursor;
      if (auto m = j.find("response_metadata"); m != j.end() && m->is_object())
        cursor = m->value("next_cursor", "");
      if (cursor.empty()) break;
      params["cursor"] = cursor;
    }
    return out;
  }

  SlackApiOptions opt_;
  HttpClient http_;
  std::string last_slack_error_, last_needed_;  // of the last {"ok":false}
};

}  // namespace

std::unique_ptr<Connector> NewSlackApiConnector(const SlackApiOptions& options) {
  return std::make_unique<SlackApiConnector>(options);
}

}  // namespace savoir
