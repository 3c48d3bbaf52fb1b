#include "connectors/slack/export_connector.h"

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/json_read.h"
#include "connectors/slack/export_reader.h"
#include "connectors/slack/slack_model.h"

namespace savoir {
namespace {
using json = nlohmann::json;

Result<json> ReadJson(const ExportReader& reader, const std::string& rel) {
  SAVOIR_ASSIGN_OR_RETURN(std::string bytes, reader.Read(rel));
  json j = json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status(ErrorKind::kCorrupt, rel + ": not valid JSON");
  return j;
}

bool IsDayFile(const std::string& name) {
  // YYYY-MM-DD.json
  return name.size() == 15 && name.ends_with(".json") && name[4] == '-' && name[7] == '-';
}

class SlackExportConnector final : public Connector {
 public:
  explicit SlackExportConnector(SlackExportOptions opt) : opt_(std::move(opt)) {
    if (opt_.domain.empty()) opt_.domain = opt_.source_name;
  }

  Status Run(const std::string& /*checkpoint*/, SyncContext& ctx) override {
    SAVOIR_ASSIGN_OR_RETURN(auto reader, OpenExport(opt_.path));
    std::vector<std::string> files = reader->Files();
    std::set<std::string> present(files.begin(), files.end());
    if (!present.count("channels.json") && !present.count("groups.json") && !present.count("dms.json"))
      return Status(ErrorKind::kInvalidArgument,
                    opt_.path + " does not look like a Slack export (no channels.json)");

    SlackWorkspace ws;
    ws.source_name = opt_.source_name;
    ws.domain = opt_.domain;
    ConnectorBatch batch;
    if (present.count("users.json")) {
      auto users = ReadJson(*reader, "users.json");
      if (!users.ok()) batch.errors.push_back(users.status().message());
      else if (users->is_array())
        for (const auto& u : *users) ws.names.users[JsonString(u, "id")] = SlackUserDisplayName(u);
    }

    // Conversations and the folder holding each one's days.
    std::vector<std::pair<SlackChannel, std::string>> conversations;
    for (const auto& [file, is_private] : std::vector<std::pair<std::string, bool>>{
             {"channels.json", false}, {"groups.json", true}, {"mpims.json", true}, {"dms.json", true}}) {
      if (!present.count(file)) continue;
      auto list = ReadJson(*reader, file);
      if (!list.ok() || !list->is_array()) {
        return Status(ErrorKind::kCorrupt, opt_.path + ": " + file + " cannot be read" +
                                               (list.ok() ? "" : ": " + list.status().message()));
      }
      for (const auto& c : *list) {
        SlackChannel ch = SlackChannelFromJson(c, is_private);
        if (ch.id.empty()) continue;
        ws.names.channels[ch.id] = ch.name;
        std::string folder = file == "dms.json" || ch.name.empty() ? ch.id : ch.name;
        conversations.emplace_back(std::move(ch), folder);
      }
    }
    std::map<std::string, std::vector<std::string>> days_by_folder;
    for (const auto& f : files) {
      size_t slash = f.find('/');
      if (slash != std::string::npos && f.find('/', slash + 1) == std::string::npos &&
          IsDayFile(f.substr(slash + 1)))
        days_by_folder[f.substr(0, slash)].push_back(f);
    }

    std::set<std::string> produced;
    std::set<std::string> unsure_channels;  // a day file failed: keep what we have
    auto flush = [&](bool last) -> Status {
      if (!last && batch.upserts.size() < opt_.batch_size) return Status::Ok();
      if (last) {
        for (const auto& [ext, id] : ctx.stored) {
          if (produced.count(ext)) continue;
          std::string channel = ext.substr(0, ext.find('/'));
          if (!unsure_channels.count(channel)) batch.deletions.push_back(ext);
        }
      }
      batch.checkpoint = json{{"export", opt_.path}}.dump();
      SAVOIR_RETURN_IF_ERROR(ctx.emit(batch));
      batch = ConnectorBatch();
      return Status::Ok();
    };
    for (const auto& [channel, folder] : conversations) {
      std::vector<SlackMessage> messages;
      for (const auto& day_file : days_by_folder[folder]) {
        auto day = ReadJson(*reader, day_file);
        if (!day.ok() || !day->is_array()) {
          batch.errors.push_back(opt_.path + "/" + day_file + ": " +
                                 (day.ok() ? "not a list of messages" : day.status().message()));
          unsure_channels.insert(channel.id);
          continue;
        }
        std::string date = day_file.substr(day_file.size() - 15, 10);
        for (const auto& m : *day) {
          SlackMessage msg = SlackMessageFromJson(m);
          if (msg.ts.empty()) continue;
          msg.day = date;  // the export's own day (its time zone), not UTC
          messages.push_back(std::move(msg));
        }
      }
      for (auto& doc : SlackDocuments(ws, channel, std::move(messages))) {
        produced.insert(doc.external_id);
        batch.upserts.push_back(std::move(doc));
        SAVOIR_RETURN_IF_ERROR(flush(false));
      }
    }
    return flush(true);
  }

 private:
  SlackExportOptions opt_;
};

}  // namespace

std::unique_ptr<Connector> NewSlackExportConnector(const SlackExportOptions& options) {
  return std::make_unique<SlackExportConnector>(options);
}

}  // namespace savoir
