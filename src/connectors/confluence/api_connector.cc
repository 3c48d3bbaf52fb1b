#include "connectors/confluence/api_connector.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/secret.h"
#include "connectors/confluence/confluence_model.h"

namespace savoir {
namespace {
using json = nlohmann::json;

const char kRestrictionExpand[] = "restrictions.read.restrictions.user,restrictions.read.restrictions.group";
const char kListExpand[] = "version,ancestors,restrictions.read.restrictions.user,restrictions.read.restrictions.group";
const char kFullExpand[] =
    "body.storage,version,ancestors,metadata.labels,history,"
    "restrictions.read.restrictions.user,restrictions.read.restrictions.group";

std::string Joined(const AccessList& acl) {
  std::string s;
  for (const auto& e : acl) s += e + "\n";
  return s;
}

// One page as the light listing shows it.
struct Listed {
  int64_t version = 0;
  int64_t when = 0;
  AccessList acl;
};

class ConfluenceConnector final : public Connector {
 public:
  explicit ConfluenceConnector(ConfluenceOptions opt) : opt_(std::move(opt)), http_(opt_.http) {
    while (!opt_.base_url.empty() && opt_.base_url.back() == '/') opt_.base_url.pop_back();
    auth_ = opt_.user.empty() ? "Authorization: Bearer " + opt_.token
                              : "Authorization: Basic " + ToBase64(opt_.user + ":" + opt_.token);
  }

  Status Run(const std::string& checkpoint, SyncContext& ctx) override {
    json cp = json::parse(checkpoint.empty() ? "{}" : checkpoint, nullptr, false);
    if (!cp.is_object()) cp = json::object();
    if (!cp.contains("spaces") || !cp["spaces"].is_object()) cp["spaces"] = json::object();

    SAVOIR_ASSIGN_OR_RETURN(auto listed, Paged("/rest/api/space?limit=" + std::to_string(opt_.page_size)));
    std::set<std::string> live;
    for (const auto& s : listed)
      if (s.is_object() && s.value("key", "") != "") live.insert(s.value("key", ""));
    std::vector<std::string> keys;
    ConnectorBatch first;
    if (opt_.spaces.empty()) {
      keys.assign(live.begin(), live.end());
    } else {
      for (const auto& k : opt_.spaces) {
        if (live.count(k)) keys.push_back(k);
        else first.errors.push_back("space " + k + ": not listed by Confluence (missing or no access)");
      }
    }
    if (!first.errors.empty()) {
      first.checkpoint = cp.dump();
      SAVOIR_RETURN_IF_ERROR(ctx.emit(first));
    }
    std::set<std::string> synced(keys.begin(), keys.end());
    for (const auto& key : keys) {
      ConnectorBatch batch;
      json state = cp["spaces"].value(key, json::object());
      Status st = SyncSpace(key, &state, ctx, &batch);
      if (!st.ok()) {
        if (st.kind() == ErrorKind::kPermissionDenied) return st;  // the credential itself
        batch = ConnectorBatch();  // its documents and checkpoint stay as they were
        batch.errors.push_back("space " + key + ": " + st.message());
      } else {
        cp["spaces"][key] = std::move(state);
      }
      batch.checkpoint = cp.dump();
      SAVOIR_RETURN_IF_ERROR(ctx.emit(batch));
    }
    // Spaces gone (deleted, access lost, dropped from the configuration).
    ConnectorBatch last;
    for (const auto& [ext, id] : ctx.stored)
      if (!synced.count(ext.substr(0, ext.find('/')))) last.deletions.push_back(ext);
    for (auto it = cp["spaces"].begin(); it != cp["spaces"].end();)
      it = synced.count(it.key()) ? std::next(it) : cp["spaces"].erase(it);
    last.checkpoint = cp.dump();
    return ctx.emit(last);
  }

 private:
  Status SyncSpace(const std::string& key, json* state, SyncContext& ctx, ConnectorBatch* batch) {
    const std::string scope = "space=\"" + key + "\" and type in (page,blogpost)";
    // 1. Light listing: versions, ancestors, restrictions.
    SAVOIR_ASSIGN_OR_RETURN(auto all, Search(scope, kListExpand));
    std::map<std::string, std::optional<std::set<std::string>>> own;
    std::map<std::string, std::vector<std::string>> ancestors;
    for (const auto& c : all) {
      std::string id = c.value("id", "");
      if (id.empty()) continue;
      own[id] = ConfluenceOwnReadAccess(c);
      ancestors[id] = ConfluenceAncestorIds(c);
    }
    // Ancestors the listing did not return (archived, another status): their
    // restrictions still apply. One that cannot be read admits nobody.
    std::set<std::string> missing;
    for (const auto& [id, chain] : ancestors)
      for (const auto& a : chain)
        if (!own.count(a)) missing.insert(a);
    for (const auto& a : missing) {
      auto c = Get("/rest/api/content/" + UrlEncode(a) + "?expand=" + UrlEncode(kRestrictionExpand));
      if (c.ok()) own[a] = ConfluenceOwnReadAccess(*c);
      else if (c.status().kind() == ErrorKind::kNotFound) own[a] = std::set<std::string>();
      else return c.status();
    }
    std::map<std::string, Listed> pages;
    int64_t newest = 0;
    for (const auto& c : all) {
      std::string id = c.value("id", "");
      if (id.empty()) continue;
      Listed& p = pages[id];
      if (auto v = c.find("version"); v != c.end() && v->is_object()) {
        p.version = v->value("number", int64_t{0});
        p.when = ParseConfluenceTime(v->value("when", ""));
      }
      newest = std::max(newest, p.when);
      p.acl = ConfluenceAccess(id, ancestors[id], own, key);
    }
    json known = state->value("pages", json::object());
    auto changed = [&](const std::string& id) {
      const Listed& p = pages[id];
      auto it = known.find(id);
      return it == known.end() || !it->is_object() || it->value("v", int64_t{-1}) != p.version ||
             it->value("acl", "") != Joined(p.acl);
    };
    auto add = [&](const json& c) {
      std::string id = c.value("id", "");
      auto it = pages.find(id);
      if (it == pages.end()) return;  // created after the listing: next run
      if (it->second.acl.empty()) {
        // Restricted levels with no common entry: nobody Savoir can name may read it.
        batch->deletions.push_back(key + "/" + id);
        batch->errors.push_back("space " + key + ": page " + id + " has no reader Savoir can name; not indexed");
        return;
      }
      auto doc = ConfluenceDocument(c, key, opt_.base_url, it->second.acl);
      if (!doc.ok()) {
        batch->errors.push_back("space " + key + ": " + doc.status().message());
        return;
      }
      batch->upserts.push_back(std::move(doc).value());
    };
    // 2. Changed since the last run, bodies included.
    std::set<std::string> fetched;
    std::string cql = scope;
    if (int64_t since = state->value("since", int64_t{0}); since > 0)
      cql += " and lastmodified >= \"" + CqlTime(since - 86400) + "\"";
    SAVOIR_ASSIGN_OR_RETURN(auto recent, Search(cql, kFullExpand));
    for (const auto& c : recent) {
      std::string id = c.value("id", "");
      if (!pages.count(id) || !changed(id) || !fetched.insert(id).second) continue;
      add(c);
    }
    // 3. Changed but missed by the time filter (e.g. an ancestor's restriction).
    std::vector<std::string> gone;
    for (const auto& [id, p] : pages) {
      if (fetched.count(id) || !changed(id)) continue;
      auto c = Get("/rest/api/content/" + UrlEncode(id) + "?expand=" + UrlEncode(kFullExpand));
      if (!c.ok() && c.status().kind() == ErrorKind::kNotFound) {
        gone.push_back(id);  // deleted since the listing: removed below like any unlisted page
        continue;
      }
      if (!c.ok()) return c.status();
      add(*c);
    }
    for (const auto& id : gone) pages.erase(id);
    // Deletions: stored pages of this space the full listing no longer has.
    const std::string prefix = key + "/";
    for (const auto& [ext, doc_id] : ctx.stored)
      if (ext.compare(0, prefix.size(), prefix) == 0 && !pages.count(ext.substr(prefix.size())))
        batch->deletions.push_back(ext);
    json next = json::object();
    for (const auto& [id, p] : pages) next[id] = {{"v", p.version}, {"acl", Joined(p.acl)}};
    (*state)["pages"] = std::move(next);
    (*state)["since"] = std::max(newest, state->value("since", int64_t{0}));
    return Status::Ok();
  }

  Result<std::vector<json>> Search(const std::string& cql, const std::string& expand) {
    return Paged("/rest/api/content/search?cql=" + UrlEncode(cql) + "&expand=" + UrlEncode(expand) +
                 "&limit=" + std::to_string(opt_.page_size));
  }

  // One request; `path` is relative to the base URL (as `_links.next` is).
  Result<json> Get(const std::string& path) {
    SAVOIR_ASSIGN_OR_RETURN(HttpResponse r, http_.Get(opt_.base_url + path, {auth_, "Accept: application/json"}));
    std::string what = UrlWithoutQuery(path);
    if (r.status == 401 || r.status == 403)
      return Status(ErrorKind::kPermissionDenied,
                    "Confluence refused the credentials (HTTP " + std::to_string(r.status) + ") on " + what +
                        ": the token is expired, revoked or lacks access; update it with `savoir source remove` + "
                        "`source add`");
    if (r.status != 200)
      return Status(r.status == 404 ? ErrorKind::kNotFound : ErrorKind::kUnavailable,
                    what + ": HTTP " + std::to_string(r.status));
    json j = json::parse(r.body, nullptr, false);
    if (!j.is_object()) return Status(ErrorKind::kUnavailable, what + ": the body is not Confluence's JSON");
    return j;
  }

  // start/limit paging following `_links.next` until it is absent.
  Result<std::vector<json>> Paged(std::string path) {
    std::vector<json> out;
    for (int page = 0; page < 100000 && !path.empty(); ++page) {
      SAVOIR_ASSIGN_OR_RETURN(json j, Get(path));
      if (auto it = j.find("results"); it != j.end() && it->is_array())
        for (auto& x : *it) out.push_back(std::move(x));
      path.clear();
      if (auto l = j.find("_links"); l != j.end() && l->is_object()) path = l->value("next", "");
    }
    return out;
  }

  ConfluenceOptions opt_;
  HttpClient http_;
  std::string auth_;
};

}  // namespace

std::unique_ptr<Connector> NewConfluenceConnector(const ConfluenceOptions& options) {
  return std::make_unique<ConfluenceConnector>(options);
}

}  // namespace savoir
