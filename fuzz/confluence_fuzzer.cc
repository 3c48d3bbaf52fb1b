// Confluence payload readers (connectors/confluence): a REST content object
// (restrictions, ancestors, body.storage, version, labels) turned into a
// document, a storage-format body, and an exported HTML page. Nothing may
// throw or crash; a document made is one the store accepts; parsed bodies
// keep the ParsedDocument invariants.
#include <nlohmann/json.hpp>
#include <string>

#include "connectors/confluence/confluence_model.h"
#include "connectors/confluence/export_connector.h"
#include "connectors/confluence/storage_format.h"
#include "fuzz_target.h"

SAVOIR_FUZZ_TARGET(confluence) {
  using namespace savoir;
  std::string_view in = fuzz::AsView(data, size);
  if (auto doc = ConfluenceStorageToDocument(in); doc.ok()) fuzz::CheckParsedDocument(*doc);
  (void)ParseExportedPage(std::string(in));
  (void)ParseConfluenceTime(std::string(in.substr(0, 64)));

  auto j = nlohmann::json::parse(in.begin(), in.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return 0;
  auto own = ConfluenceOwnReadAccess(j);
  auto ancestors = ConfluenceAncestorIds(j);
  std::map<std::string, std::optional<std::set<std::string>>> levels;
  std::string id = j.contains("id") && j["id"].is_string() ? j["id"].get<std::string>() : "1";
  levels[id] = own;
  AccessList acl = ConfluenceAccess(id, ancestors, levels, "KEY");
  if (acl.empty()) acl = {"group:confluence-space:KEY"};
  auto d = ConfluenceDocument(j, "KEY", "https://wiki.example.com", acl);
  if (d.ok()) {
    SAVOIR_FUZZ_CHECK(!d->external_id.empty());
    SAVOIR_FUZZ_CHECK(!d->acl.empty());
    if (d->parsed) fuzz::CheckParsedDocument(*d->parsed);
  }
  return 0;
}
