// Confluence REST v1 content objects (pages, blog posts) to connector
// documents: the storage body converted (storage_format.h), ancestors as the
// heading path prefix, labels/space/type/version as metadata, and access
// lists from read restrictions inherited down the page tree.
//
// Access until identity lands: a page with no read restriction on itself or
// an ancestor is readable by `group:confluence-space:<KEY>` (space
// permissions approximated by one group per space); a restricted page by
// `user:confluence:<accountId|username>` and `group:confluence:<name>`. When
// several levels are restricted a reader must pass each, so only entries
// present at every restricted level are kept (never more readers than
// Confluence allows; a user admitted by a group at one level and by name at
// another is left out).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "connectors/connector.h"

namespace savoir {

// The entries a page's own read restriction allows; nullopt when the page
// has no read restriction of its own.
std::optional<std::set<std::string>> ConfluenceOwnReadAccess(const nlohmann::json& content);

// Ancestor ids, root first.
std::vector<std::string> ConfluenceAncestorIds(const nlohmann::json& content);

// Effective access of a page from its own and its ancestors' restrictions
// (`own` maps content id -> own restriction, ids absent are unrestricted).
// Empty when restricted levels share no entry (nobody Savoir can name).
AccessList ConfluenceAccess(const std::string& id, const std::vector<std::string>& ancestors,
                            const std::map<std::string, std::optional<std::set<std::string>>>& own,
                            const std::string& space_key);

// "2024-01-15T10:30:00.000Z" / "...+01:00" -> unix seconds; 0 if unreadable.
int64_t ParseConfluenceTime(const std::string& s);
// Unix seconds -> "yyyy-MM-dd HH:mm" (UTC), CQL's date syntax.
std::string CqlTime(int64_t t);

// The document for a content object fetched with body.storage, version,
// ancestors, metadata.labels and history. `base` is the site URL for
// `_links.webui` when the object has no `_links.base` (search results).
Result<ConnectorDocument> ConfluenceDocument(const nlohmann::json& content, const std::string& space_key,
                                             const std::string& base, const AccessList& acl);

}  // namespace savoir
