#include "connectors/confluence/api_connector.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/json_read.h"
#include "common/secret.h"
#include "connectors/confluence/confluence_model.h"
#include "connectors/confluence/storage_format.h"
#include "ingest/parse/parser.h"

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

// The file name an attachment is parsed under (its extension picks the
// parser), or "" when it is not a PDF, DOCX or text file.
std::string AttachmentFileName(const std::string& title, const std::string& media) {
  std::string name = title;
  for (char& ch : name)
    if (ch == '/' || ch == '\\' || static_cast<unsigned char>(ch) < 32) ch = '_';
  auto ext = [&](const std::string& e) {
    std::string low = name;
    std::transform(low.begin(), low.end(), low.begin(), [](unsigned char ch) { return std::tolower(ch); });
    return low.size() >= e.size() && low.compare(low.size() - e.size(), e.size(), e) == 0;
  };
  if (media == "application/pdf") return ext(".pdf") ? name : name + ".pdf";
  if (media == "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    return ext(".docx") ? name : name + ".docx";
  if (ext(".pdf") || ext(".docx") || ext(".html") || ext(".htm") || ext(".eml")) return "";  // media type disagrees
  if (media.rfind("text/", 0) == 0 && media != "text/html" && IsSupportedFile(name)) return name;
  if (media == "text/plain") return name + ".txt";
  if (media.rfind("text/", 0) == 0 && media != "text/html") return "";
  return (media.empty() || media == "application/octet-stream") && IsSupportedFile(name) ? name : "";
}

const json& Field(const json& j, std::initializer_list<const char*> path) {
  static const json kNull;
  const json* cur = &j;
  for (const char* k : path) {
    if (!cur->is_object()) return kNull;
    auto it = cur->find(k);
    if (it == cur->end()) return kNull;
    cur = &*it;
  }
  return *cur;
}
std::string FieldStr(const json& j, std::initializer_list<const char*> path) {
  const json& v = Field(j, path);
  return v.is_string() ? v.get<std::string>() : "";
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
      if (s.is_object() && JsonString(s, "key") != "") live.insert(JsonString(s, "key"));
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
      std::string id = JsonString(c, "id");
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
    std::map<std::string, std::string> titles, webui;
    int64_t newest = 0;
    for (const auto& c : all) {
      std::string id = JsonString(c, "id");
      if (id.empty()) continue;
      Listed& p = pages[id];
      titles[id] = JsonString(c, "title");
      webui[id] = FieldStr(c, {"_links", "webui"});
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
      std::string id = JsonString(c, "id");
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
      std::string id = JsonString(c, "id");
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
    // 4. Attachments of every listed page that has readers.
    std::set<std::string> live_att;
    std::map<std::string, json> att_state;
    if (opt_.attachments)
      for (const auto& [id, p] : pages) {
        if (p.acl.empty()) continue;
        json prev = json::object();
        if (auto it = known.find(id); it != known.end() && it->is_object() && it->contains("att") &&
                                      (*it)["att"].is_object())
          prev = (*it)["att"];
        // Attachments kept unread follow their page's access list.
        if (auto it = known.find(id); it != known.end() && it->is_object() && it->value("acl", "") != Joined(p.acl))
          batch->access_changes.push_back({key + "/" + id + "/att/", p.acl});
        SAVOIR_RETURN_IF_ERROR(
            SyncAttachments(key, id, titles[id], p.acl, prev, ctx, batch, &live_att, &att_state[id]));
      }
    // 5. Footer comments of every listed page that has readers: one
    // document per page, rebuilt when a comment is added, edited or removed.
    std::set<std::string> live_comments;
    std::map<std::string, std::string> comment_state;
    if (opt_.comments)
      for (const auto& [id, p] : pages) {
        if (p.acl.empty()) continue;
        std::string prev;
        bool acl_changed = false;
        if (auto it = known.find(id); it != known.end() && it->is_object()) {
          prev = it->value("cm", "");
          acl_changed = it->value("acl", "") != Joined(p.acl);
        }
        std::string url = webui[id].empty() ? "" : opt_.base_url + webui[id];
        SAVOIR_RETURN_IF_ERROR(SyncComments(key, id, titles[id], url, p.acl, prev, acl_changed, ctx, batch,
                                            &live_comments, &comment_state[id]));
      }
    // Deletions: stored pages of this space the full listing no longer has,
    // and attachments and comments no longer listed.
    const std::string prefix = key + "/";
    for (const auto& [ext, doc_id] : ctx.stored) {
      if (ext.compare(0, prefix.size(), prefix) != 0) continue;
      std::string rest = ext.substr(prefix.size());
      bool is_att = rest.find("/att/") != std::string::npos;
      bool is_comments = !is_att && rest.size() > 9 && rest.compare(rest.size() - 9, 9, "/comments") == 0;
      bool keep = is_att ? live_att.count(ext) > 0 : is_comments ? live_comments.count(ext) > 0 : pages.count(rest) > 0;
      if (!keep) batch->deletions.push_back(ext);
    }
    json next = json::object();
    for (const auto& [id, p] : pages) {
      next[id] = {{"v", p.version}, {"acl", Joined(p.acl)}};
      if (auto it = att_state.find(id); it != att_state.end() && !it->second.empty()) next[id]["att"] = it->second;
      if (auto it = comment_state.find(id); it != comment_state.end() && !it->second.empty()) next[id]["cm"] = it->second;
    }
    (*state)["pages"] = std::move(next);
    (*state)["since"] = std::max(newest, state->value("since", int64_t{0}));
    return Status::Ok();
  }

  // Lists one page's attachments; new or changed PDF/DOCX/text ones are
  // downloaded and parsed in a ParseWorker child. `live` receives the
  // external ids to keep, `state` attachment id -> version stored.
  Status SyncAttachments(const std::string& key, const std::string& page_id, const std::string& page_title,
                         const AccessList& acl, const json& prev, SyncContext& ctx, ConnectorBatch* batch,
                         std::set<std::string>* live, json* state) {
    *state = json::object();
    const std::string prefix = key + "/" + page_id + "/att/";
    auto keep_stored = [&](const std::string& aid) {
      if (!ctx.stored.count(prefix + aid) || !prev.contains(aid)) return;
      live->insert(prefix + aid);
      (*state)[aid] = prev[aid];
    };
    auto listed = Paged("/rest/api/content/" + UrlEncode(page_id) + "/child/attachment?limit=" +
                        std::to_string(opt_.page_size) + "&expand=version");
    if (!listed.ok()) {
      if (listed.status().kind() == ErrorKind::kPermissionDenied) return listed.status();
      if (listed.status().kind() == ErrorKind::kNotFound) return Status::Ok();  // page deleted meanwhile
      batch->errors.push_back("space " + key + ": attachments of page " + page_id + ": " + listed.status().message());
      for (auto it = prev.begin(); it != prev.end(); ++it) keep_stored(it.key());
      return Status::Ok();
    }
    for (const auto& a : *listed) {
      std::string aid = FieldStr(a, {"id"});
      std::string title = FieldStr(a, {"title"});
      std::string media = FieldStr(a, {"metadata", "mediaType"});
      if (media.empty()) media = FieldStr(a, {"extensions", "mediaType"});
      if (media.empty()) media = FieldStr(a, {"mediaType"});
      std::string download = FieldStr(a, {"_links", "download"});
      std::string file_name = AttachmentFileName(title, media);
      if (aid.empty() || download.empty() || file_name.empty()) continue;
      const json& vj = Field(a, {"version", "number"});
      int64_t version = vj.is_number_integer() ? vj.get<int64_t>() : 0;
      const std::string ext_id = prefix + aid;
      if (ctx.stored.count(ext_id) && prev.contains(aid) && prev[aid] == version) {
        live->insert(ext_id);  // unchanged: not downloaded again
        (*state)[aid] = version;
        continue;
      }
      const std::string what = "space " + key + ": attachment " + title + " of page " + page_id;
      const json& size = Field(a, {"extensions", "fileSize"});
      if (size.is_number() && size.get<double>() > static_cast<double>(opt_.limits.max_file_bytes)) {
        batch->errors.push_back(what + ": larger than the " + std::to_string(opt_.limits.max_file_bytes >> 20) +
                                " MiB file limit; skipped");
        continue;
      }
      std::string url = download.rfind("http", 0) == 0 ? download : opt_.base_url + download;
      auto r = http_.Get(url, {auth_});
      if (r.ok() && (r->status == 401 || r->status == 403))
        return Status(ErrorKind::kPermissionDenied,
                      "Confluence refused the credentials (HTTP " + std::to_string(r->status) + ") on " +
                          UrlWithoutQuery(download));
      if (!r.ok() || r->status != 200) {
        batch->errors.push_back(what + ": download failed (" +
                                (r.ok() ? "HTTP " + std::to_string(r->status) : r.status().message()) + ")");
        keep_stored(aid);
        continue;
      }
      if (static_cast<int64_t>(r->body.size()) > opt_.limits.max_file_bytes) {
        batch->errors.push_back(what + ": larger than the file limit; skipped");
        continue;
      }
      auto parsed = ParseUntrusted(r->body, file_name);
      r->body.clear();
      if (!parsed.ok()) {
        batch->errors.push_back(what + ": " + parsed.status().message());
        keep_stored(aid);
        continue;
      }
      ConnectorDocument d;
      d.external_id = ext_id;
      d.title = page_title + " \u203a " + title;
      d.url = url;
      d.author = FieldStr(a, {"version", "by", "displayName"});
      d.updated_at = ParseConfluenceTime(FieldStr(a, {"version", "when"}));
      d.acl = acl;
      d.text = parsed->text;
      d.parsed = std::move(parsed).value();
      d.metadata_json = json{{"space", key}, {"type", "attachment"}, {"page", page_id}, {"file", title},
                             {"mediaType", media}, {"version", version}}
                            .dump();
      batch->upserts.push_back(std::move(d));
      live->insert(ext_id);
      (*state)[aid] = version;
    }
    return Status::Ok();
  }

  // Lists one page's footer comments (replies included, paged) and, when
  // their ids and versions differ from `prev` (the checkpoint's signature),
  // rebuilds the page's comments document `<KEY>/<page id>/comments`: a
  // paragraph per comment, "Author (YYYY-MM-DD): text", oldest first, with
  // the page's access list. `signature` receives what to keep.
  Status SyncComments(const std::string& key, const std::string& page_id, const std::string& page_title,
                      const std::string& page_url, const AccessList& acl, const std::string& prev, bool acl_changed,
                      SyncContext& ctx, ConnectorBatch* batch, std::set<std::string>* live, std::string* signature) {
    const std::string ext_id = key + "/" + page_id + "/comments";
    auto listed = Paged("/rest/api/content/" + UrlEncode(page_id) +
                        "/child/comment?location=footer&depth=all&expand=body.storage,version&limit=" +
                        std::to_string(opt_.page_size));
    if (!listed.ok()) {
      if (listed.status().kind() == ErrorKind::kPermissionDenied) return listed.status();
      if (listed.status().kind() == ErrorKind::kNotFound) return Status::Ok();  // page deleted meanwhile
      batch->errors.push_back("space " + key + ": comments of page " + page_id + ": " + listed.status().message());
      if (ctx.stored.count(ext_id)) {  // kept as stored
        live->insert(ext_id);
        *signature = prev;
      }
      return Status::Ok();
    }
    struct Comment {
      int64_t when = 0;
      std::string id, author, text;
    };
    std::vector<Comment> comments;
    std::string sig;
    for (const auto& c : *listed) {
      Comment cm;
      cm.id = FieldStr(c, {"id"});
      if (cm.id.empty()) continue;
      const json& vj = Field(c, {"version", "number"});
      sig += cm.id + ":" + std::to_string(vj.is_number_integer() ? vj.get<int64_t>() : 0) + ";";
      cm.author = FieldStr(c, {"version", "by", "displayName"});
      cm.when = ParseConfluenceTime(FieldStr(c, {"version", "when"}));
      auto body = ConfluenceStorageToDocument(FieldStr(c, {"body", "storage", "value"}));
      if (!body.ok()) {
        batch->errors.push_back("space " + key + ": comment " + cm.id + " of page " + page_id + ": " +
                                body.status().message());
        continue;
      }
      cm.text = body->text;
      while (!cm.text.empty() && (cm.text.back() == '\n' || cm.text.back() == ' ')) cm.text.pop_back();
      if (!cm.text.empty()) comments.push_back(std::move(cm));
    }
    if (comments.empty()) return Status::Ok();  // a stored comments document goes
    live->insert(ext_id);
    *signature = sig;
    if (ctx.stored.count(ext_id) && sig == prev) {
      if (acl_changed) batch->access_changes.push_back({ext_id, acl});
      return Status::Ok();  // unchanged: not rebuilt
    }
    std::stable_sort(comments.begin(), comments.end(), [](const Comment& a, const Comment& b) { return a.when < b.when; });
    ConnectorDocument d;
    d.external_id = ext_id;
    d.title = page_title + " \u203a comments";
    d.url = page_url;
    d.acl = acl;
    for (const auto& cm : comments) {
      if (!d.text.empty()) d.text += "\n\n";
      char day[16] = "";
      time_t t = cm.when;
      struct tm tm {};
      if (cm.when > 0 && gmtime_r(&t, &tm)) strftime(day, sizeof(day), "%Y-%m-%d", &tm);
      d.text += (cm.author.empty() ? std::string("Someone") : cm.author) + (day[0] ? " (" + std::string(day) + ")" : "") +
                ": " + cm.text;
      d.updated_at = std::max(d.updated_at, cm.when);
    }
    d.author = comments.front().author;
    d.created_at = comments.front().when;
    d.metadata_json = json{{"space", key}, {"type", "comments"}, {"page", page_id}, {"comments", comments.size()}}.dump();
    batch->upserts.push_back(std::move(d));
    return Status::Ok();
  }

  // Untrusted bytes: written to a private temp file, parsed in the child.
  Result<ParsedDocument> ParseUntrusted(const std::string& bytes, const std::string& file_name) {
    std::error_code ec;
    std::string dir = std::filesystem::temp_directory_path(ec).string();
    if (ec || dir.empty()) dir = "/tmp";
    std::string ext = std::filesystem::path(file_name).extension().string();
    std::string tmpl = dir + "/savoir-att-XXXXXX" + ext;
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    int fd = mkstemps(buf.data(), static_cast<int>(ext.size()));
    if (fd < 0) return Status(ErrorKind::kIo, "cannot create a temporary file in " + dir);
    std::string path(buf.data());
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = write(fd, bytes.data() + off, bytes.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    close(fd);
    if (off != bytes.size()) {
      unlink(path.c_str());
      return Status(ErrorKind::kIo, "cannot write a temporary file in " + dir);
    }
    if (!worker_) worker_ = std::make_unique<ParseWorker>(opt_.limits);
    auto parsed = worker_->Parse(path);
    unlink(path.c_str());
    return parsed;
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
                        ": the token is expired, revoked or lacks access; replace it on the admin page or with "
                        "PATCH /api/sources/ID");
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
  std::unique_ptr<ParseWorker> worker_;  // attachments; forked on first use
};

}  // namespace

std::unique_ptr<Connector> NewConfluenceConnector(const ConfluenceOptions& options) {
  return std::make_unique<ConfluenceConnector>(options);
}

}  // namespace savoir
