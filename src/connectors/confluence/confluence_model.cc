#include "connectors/confluence/confluence_model.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "connectors/confluence/storage_format.h"

namespace savoir {
namespace {
using json = nlohmann::json;

const json& At(const json& j, std::initializer_list<const char*> path) {
  static const json kNull;
  const json* cur = &j;
  for (const char* key : path) {
    if (!cur->is_object()) return kNull;
    auto it = cur->find(key);
    if (it == cur->end()) return kNull;
    cur = &*it;
  }
  return *cur;
}

std::string Str(const json& j) { return j.is_string() ? j.get<std::string>() : j.is_number() ? j.dump() : ""; }

}  // namespace

std::optional<std::set<std::string>> ConfluenceOwnReadAccess(const json& content) {
  const json& r = At(content, {"restrictions", "read", "restrictions"});
  std::set<std::string> out;
  const json& users = At(r, {"user", "results"});
  if (users.is_array())
    for (const auto& u : users) {
      std::string id = Str(At(u, {"accountId"}));
      if (id.empty()) id = Str(At(u, {"username"}));
      if (id.empty()) id = Str(At(u, {"userKey"}));
      if (!id.empty()) out.insert("user:confluence:" + id);
    }
  const json& groups = At(r, {"group", "results"});
  if (groups.is_array())
    for (const auto& g : groups) {
      std::string name = Str(At(g, {"name"}));
      if (!name.empty()) out.insert("group:confluence:" + name);
    }
  if (out.empty()) return std::nullopt;
  return out;
}

std::vector<std::string> ConfluenceAncestorIds(const json& content) {
  std::vector<std::string> ids;
  const json& a = At(content, {"ancestors"});
  if (a.is_array())
    for (const auto& x : a) ids.push_back(Str(At(x, {"id"})));
  return ids;
}

AccessList ConfluenceAccess(const std::string& id, const std::vector<std::string>& ancestors,
                            const std::map<std::string, std::optional<std::set<std::string>>>& own,
                            const std::string& space_key) {
  std::optional<std::set<std::string>> allowed;
  auto level = [&](const std::string& level_id) {
    auto it = own.find(level_id);
    if (it == own.end() || !it->second) return;
    if (!allowed) {
      allowed = *it->second;
      return;
    }
    std::set<std::string> both;
    std::set_intersection(allowed->begin(), allowed->end(), it->second->begin(), it->second->end(),
                          std::inserter(both, both.end()));
    allowed = std::move(both);
  };
  for (const auto& a : ancestors) level(a);
  level(id);
  if (!allowed) return {"group:confluence-space:" + space_key};
  return AccessList(allowed->begin(), allowed->end());
}

int64_t ParseConfluenceTime(const std::string& s) {
  struct tm tm {};
  int n = 0;
  if (std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec, &n) != 6)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  int64_t t = timegm(&tm);
  size_t i = static_cast<size_t>(n);
  if (i < s.size() && s[i] == '.')
    for (++i; i < s.size() && isdigit(static_cast<unsigned char>(s[i]));) ++i;
  int oh = 0, om = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-') && std::sscanf(s.c_str() + i + 1, "%d:%d", &oh, &om) >= 1)
    t -= (s[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  return t;
}

std::string CqlTime(int64_t t) {
  time_t tt = t;
  struct tm tm {};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M", &tm);
  return buf;
}

Result<ConnectorDocument> ConfluenceDocument(const json& c, const std::string& space_key, const std::string& base,
                                             const AccessList& acl) {
  ConnectorDocument d;
  std::string id = Str(At(c, {"id"}));
  if (id.empty()) return Status(ErrorKind::kCorrupt, "a content object without an id");
  d.external_id = space_key + "/" + id;
  d.title = Str(At(c, {"title"}));
  std::string link_base = Str(At(c, {"_links", "base"}));
  if (link_base.empty()) link_base = base;
  std::string webui = Str(At(c, {"_links", "webui"}));
  if (!webui.empty()) d.url = link_base + webui;
  const json& by = At(c, {"version", "by"});
  d.author = Str(At(by, {"displayName"}));
  if (d.author.empty()) d.author = Str(At(by, {"publicName"}));
  d.updated_at = ParseConfluenceTime(Str(At(c, {"version", "when"})));
  d.created_at = ParseConfluenceTime(Str(At(c, {"history", "createdDate"})));
  d.acl = acl;

  auto parsed = ConfluenceStorageToDocument(Str(At(c, {"body", "storage", "value"})));
  if (!parsed.ok()) return Status(parsed.status().kind(), d.external_id + " (" + d.title + "): " + parsed.status().message());
  json ancestors = json::array(), labels = json::array();
  const json& a = At(c, {"ancestors"});
  if (a.is_array())
    for (const auto& x : a) {
      std::string t = Str(At(x, {"title"}));
      if (t.empty()) continue;
      ancestors.push_back(t);
      if (!parsed->heading_prefix.empty()) parsed->heading_prefix += " > ";
      parsed->heading_prefix += t;
    }
  const json& l = At(c, {"metadata", "labels", "results"});
  if (l.is_array())
    for (const auto& x : l)
      if (std::string name = Str(At(x, {"name"})); !name.empty()) labels.push_back(name);
  json meta = {{"space", space_key}, {"type", Str(At(c, {"type"}))}, {"version", At(c, {"version", "number"})},
               {"labels", labels}, {"ancestors", ancestors}};
  d.metadata_json = meta.dump();
  d.text = parsed->text;  // hashed by the framework
  d.parsed = std::move(parsed).value();
  return d;
}

}  // namespace savoir
