#include "connectors/web/web_connector.h"

#include <deque>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <unordered_set>

#include "common/json_read.h"
#include "connectors/web/discover.h"
#include "connectors/web/robots.h"
#include "connectors/web/url.h"

namespace savoir {
namespace {
using json = nlohmann::json;

constexpr int kMaxSitemaps = 100;  // sitemap index fan-out, all levels
// Page requests in flight at once: a site 100 ms away is crawled at the rate
// limit instead of 10 pages/s.
constexpr size_t kParallelFetches = 4;

// What the checkpoint remembers about one fetched URL.
struct PageState {
  std::string etag, last_modified, id;
  std::string lastmod;  // the sitemap's <lastmod> when it was last fetched
  std::vector<std::string> links;  // crawl mode only
};

json StateJson(const PageState& p) {
  json e = {{"id", p.id}};
  if (!p.etag.empty()) e["etag"] = p.etag;
  if (!p.last_modified.empty()) e["lm"] = p.last_modified;
  if (!p.lastmod.empty()) e["sm"] = p.lastmod;
  if (!p.links.empty()) e["links"] = p.links;
  return e;
}

std::optional<PageState> StateFromJson(const json& e) {
  if (!e.is_object()) return std::nullopt;
  PageState p;
  p.id = JsonString(e, "id");
  p.etag = JsonString(e, "etag");
  p.last_modified = JsonString(e, "lm");
  p.lastmod = JsonString(e, "sm");
  if (e.contains("links") && e["links"].is_array())
    for (const auto& l : e["links"])
      if (l.is_string()) p.links.push_back(l.get<std::string>());
  if (p.id.empty()) return std::nullopt;
  return p;
}

json ToJson(const std::map<std::string, PageState>& pages) {
  json out = json::object();
  for (const auto& [url, p] : pages) out[url] = StateJson(p);
  return json{{"pages", std::move(out)}};
}

// Per-URL state kept in the checkpoint: written by stores without item
// state, and by savoir before the state moved to the store (read once).
std::map<std::string, PageState> FromJson(const json& j) {
  std::map<std::string, PageState> out;
  if (!j.is_object() || !j.contains("pages") || !j["pages"].is_object()) return out;
  for (const auto& [url, e] : j["pages"].items())
    if (auto p = StateFromJson(e)) out.emplace(url, std::move(*p));
  return out;
}

std::string Header(const HttpResponse& r, const std::string& name) {
  auto it = r.headers.find(name);
  return it == r.headers.end() ? "" : it->second;
}

class WebConnector : public Connector {
 public:
  explicit WebConnector(const WebOptions& o) : opt_(o), http_(o.http) {}

  Status Run(const std::string& checkpoint, SyncContext& ctx) override {
    ctx_ = &ctx;
    json cp = json::parse(checkpoint.empty() ? "{}" : checkpoint, nullptr, false);
    previous_ = FromJson(cp);
    // Per-URL state lives in the store (one row per URL, written with each
    // batch), so the checkpoint is only the run number and memory does not
    // grow with the site's state.
    in_store_ = static_cast<bool>(ctx.item_state);
    run_ = (cp.is_object() ? JsonInt(cp, "run") : 0) + 1;
    crawl_ = opt_.sitemaps.empty() && opt_.feeds.empty();
    if (!web::ParseUrl(opt_.start_url, &start_))
      return Status(ErrorKind::kInvalidArgument, "not an http(s) URL: " + opt_.start_url);
    // The origins the credential goes to: those the administrator named.
    auth_origins_ = {start_.Origin()};
    for (const auto* list : {&opt_.sitemaps, &opt_.feeds})
      for (const auto& raw : *list)
        if (web::Url u; web::ParseUrl(raw, &u)) auth_origins_.insert(u.Origin());
    if (crawl_) {
      Enqueue(start_.ToString());
    } else {
      SAVOIR_RETURN_IF_ERROR(DiscoverFromSitemaps());
      SAVOIR_RETURN_IF_ERROR(DiscoverFromFeeds());
    }
    // Up to kParallelFetches requests in flight (the client's rate limit
    // still paces them), taken from the queue in order and handled in that
    // same order: the pages fetched, and what they add to the queue, are
    // those of a one-at-a-time breadth-first crawl.
    int fetched = 0;
    std::deque<InFlight> window;
    while (true) {
      while (window.size() < kParallelFetches && !queue_.empty() && fetched < opt_.max_pages) {
        std::string url = std::move(queue_.front());
        queue_.pop_front();
        web::Url u;
        if (!web::ParseUrl(url, &u)) continue;
        SAVOIR_ASSIGN_OR_RETURN(const web::Robots* robots, RobotsFor(u));
        if (!robots->Allowed(u.PathAndQuery())) continue;
        ++fetched;
        std::optional<PageState> prev = Previous(url);
        if (UnchangedSinceLastRun(url, prev)) {
          SAVOIR_RETURN_IF_ERROR(MaybeEmit());
          continue;
        }
        window.push_back(Start(std::move(url), u, std::move(prev)));
      }
      if (window.empty()) break;
      InFlight next = std::move(window.front());
      window.pop_front();
      Finish(next);
      if (!refused_.ok()) {
        for (auto& f : window) f.response.wait();  // nothing outlives the run
        return refused_;  // what the earlier batches committed stays
      }
      SAVOIR_RETURN_IF_ERROR(MaybeEmit());
    }
    for (const auto& [ext, id] : ctx.stored)
      if (!seen_ids_.count(ext)) batch_.deletions.push_back(ext);
    return Emit(/*final=*/true);
  }

 private:
  void Enqueue(const std::string& raw) {
    std::string url = web::NormalizeUrl(raw);
    if (!url.empty() && queued_.insert(url).second) queue_.push_back(std::move(url));
  }

  // `headers` plus the credential when `url` is on one of the site's own origins.
  std::vector<std::string> WithAuth(const std::string& url, std::vector<std::string> headers = {}) const {
    if (Credentialed(url)) headers.push_back(opt_.auth_header);
    return headers;
  }
  bool Credentialed(const std::string& url) const {
    web::Url u;
    return !opt_.auth_header.empty() && web::ParseUrl(url, &u) && auth_origins_.count(u.Origin());
  }
  // A 401 or 403 to a request that carried the credential: it was refused
  // (expired, revoked, or lacking rights), and every page would be.
  Status Refused(const std::string& url, long status) const {
    return Status(ErrorKind::kPermissionDenied, "the site refused the source's credential (HTTP " +
                                                    std::to_string(status) + ") on " + web::NormalizeUrl(url) +
                                                    ": check or replace it");
  }

  Result<HttpResponse> GetXml(const std::string& url, const char* what) {
    auto r = http_.Get(url, WithAuth(url));
    if (!r.ok()) return Status(r.status().kind(), std::string("cannot read the ") + what + ": " + r.status().message());
    if ((r->status == 401 || r->status == 403) && Credentialed(url)) return Refused(url, r->status);
    if (r->status != 200)
      return Status(ErrorKind::kUnavailable, std::string("cannot read the ") + what + " " + web::NormalizeUrl(url) +
                                                 ": HTTP " + std::to_string(r->status));
    return r;
  }

  Status DiscoverFromSitemaps() {
    std::deque<std::string> todo(opt_.sitemaps.begin(), opt_.sitemaps.end());
    int read = 0;
    while (!todo.empty() && read++ < kMaxSitemaps) {
      std::string url = todo.front();
      todo.pop_front();
      SAVOIR_ASSIGN_OR_RETURN(HttpResponse r, GetXml(url, "sitemap"));
      auto sm = web::ParseSitemap(r.body);
      if (!sm.ok()) return Status(sm.status().kind(), "sitemap " + url + ": " + sm.status().message());
      for (auto& p : sm->pages) {
        if (!p.lastmod.empty()) lastmod_[web::NormalizeUrl(p.loc)] = p.lastmod;
        Enqueue(p.loc);
      }
      for (auto& s : sm->sitemaps) todo.push_back(s);
    }
    return Status::Ok();
  }

  Status DiscoverFromFeeds() {
    for (const auto& url : opt_.feeds) {
      SAVOIR_ASSIGN_OR_RETURN(HttpResponse r, GetXml(url, "feed"));
      auto links = web::ParseFeed(r.body);
      if (!links.ok()) return Status(links.status().kind(), "feed " + url + ": " + links.status().message());
      for (auto& l : *links) Enqueue(l);
    }
    return Status::Ok();
  }

  // robots.txt per origin: 2xx parsed, 4xx means no rules, anything else
  // stops the run (RFC 9309 says assume everything disallowed; deleting the
  // whole site over a server hiccup would be worse).
  Result<const web::Robots*> RobotsFor(const web::Url& u) {
    auto it = robots_.find(u.Origin());
    if (it != robots_.end()) return &it->second;
    auto r = http_.Get(u.Origin() + "/robots.txt", WithAuth(u.Origin() + "/robots.txt"));
    if (!r.ok()) return Status(r.status().kind(), "cannot read robots.txt: " + r.status().message());
    if ((r->status == 401 || r->status == 403) && Credentialed(u.Origin() + "/robots.txt"))
      return Refused(u.Origin() + "/robots.txt", r->status);
    web::Robots robots;
    if (r->status >= 200 && r->status < 300) robots = web::Robots::Parse(r->body);
    else if (r->status < 400 || r->status >= 500)
      return Status(ErrorKind::kUnavailable, u.Origin() + "/robots.txt: HTTP " + std::to_string(r->status));
    return &robots_.emplace(u.Origin(), std::move(robots)).first->second;
  }

  // A sitemap page whose <lastmod> is the one it had when it was last
  // fetched, and whose document is still stored: kept without a request.
  bool UnchangedSinceLastRun(const std::string& url, const std::optional<PageState>& prev) {
    auto it = lastmod_.find(url);
    if (it == lastmod_.end() || !prev || prev->lastmod != it->second || !ctx_->stored.count(prev->id)) return false;
    ++pending_;
    Keep(url, *prev);
    return true;
  }
  std::string SitemapLastmod(const std::string& url) const {
    auto it = lastmod_.find(url);
    return it == lastmod_.end() ? "" : it->second;
  }

  void Keep(const std::string& url, PageState state) {
    seen_ids_.insert(state.id);
    if (crawl_)
      for (const auto& l : state.links) MaybeFollow(l);
    if (in_store_) batch_.item_states.emplace_back(url, StateJson(state).dump());
    else current_[url] = std::move(state);
  }

  // What the last runs remembered of `url`: the store's row, else an old
  // checkpoint's entry.
  std::optional<PageState> Previous(const std::string& url) {
    if (in_store_) {
      auto row = ctx_->item_state(url);
      if (row.ok() && *row)
        if (auto p = StateFromJson(json::parse(**row, nullptr, false))) return p;
    }
    auto it = previous_.find(url);
    if (it == previous_.end()) return std::nullopt;
    return it->second;
  }

  void MaybeFollow(const std::string& link) {
    web::Url l;
    if (web::ParseUrl(link, &l) && l.Origin() == start_.Origin()) Enqueue(link);
  }

  // A page request under way (its response is awaited in Finish).
  struct InFlight {
    std::string url;
    web::Url u;
    std::optional<PageState> prev;
    bool known = false;
    std::future<Result<HttpResponse>> response;
  };

  InFlight Start(std::string url, const web::Url& u, std::optional<PageState> prev) {
    InFlight f;
    f.prev = std::move(prev);
    f.known = f.prev && ctx_->stored.count(f.prev->id);
    std::vector<std::string> headers;
    if (f.known && !f.prev->etag.empty()) headers.push_back("If-None-Match: " + f.prev->etag);
    if (f.known && !f.prev->last_modified.empty()) headers.push_back("If-Modified-Since: " + f.prev->last_modified);
    headers = WithAuth(url, std::move(headers));
    f.response = std::async(std::launch::async, [this, url, headers = std::move(headers)] {
      return http_.Get(url, headers);  // HttpClient is thread-safe; only this runs off the connector's thread
    });
    f.url = std::move(url);
    f.u = u;
    return f;
  }

  void Finish(InFlight& f) {
    ++pending_;
    const std::string& url = f.url;
    const web::Url& u = f.u;
    std::optional<PageState>& prev = f.prev;
    const bool known = f.known;
    auto r = f.response.get();
    // 401 to a credentialed page: the credential is refused (every page
    // would be). A 403 may be that page's own permissions: its error only.
    if (r.ok() && r->status == 401 && Credentialed(url)) {
      refused_ = Refused(url, r->status);
      if (prev) Keep(url, std::move(*prev));
      return;
    }
    if (!r.ok() || (r->status >= 500) || r->status == 429 || r->status == 401 || r->status == 403) {
      // Transient or access trouble: report, keep what was stored.
      batch_.errors.push_back(url + ": " + (r.ok() ? "HTTP " + std::to_string(r->status) : r.status().message()));
      if (prev) Keep(url, std::move(*prev));
      return;
    }
    if (r->status == 304 && known) {
      prev->lastmod = SitemapLastmod(url);
      return Keep(url, std::move(*prev));
    }
    if (r->status >= 300 && r->status < 400) {
      std::string to = web::ResolveUrl(u, Header(*r, "location"));
      if (crawl_) MaybeFollow(to);
      else if (!to.empty()) Enqueue(to);
      // A stored page of a site behind a login that now redirects is kept as
      // it was and reported: an expired session sends every page to a login
      // page, and the run must not delete the site for it.
      if (prev && known && Credentialed(url)) {
        batch_.errors.push_back(url + ": redirected to " + web::NormalizeUrl(to) +
                                " (kept as it was: an expired session or a moved page?)");
        Keep(url, std::move(*prev));
      }
      return;
    }
    if (r->status != 200) return;  // 404, 410...: gone, deleted at the end
    std::string type = Header(*r, "content-type");
    if (!type.empty() && type.find("html") == std::string::npos) return;
    web::PageInfo info = web::ExtractPage(r->body, u);
    PageState state;
    state.etag = Header(*r, "etag");
    state.last_modified = Header(*r, "last-modified");
    state.lastmod = SitemapLastmod(url);
    state.id = info.canonical.empty() ? url : info.canonical;
    if (crawl_) state.links = info.links;
    if (info.noindex) {
      if (crawl_) for (const auto& l : info.links) MaybeFollow(l);
      return;
    }
    if (!emitted_.insert(state.id).second) return Keep(url, std::move(state));  // a canonical duplicate
    ConnectorDocument d;
    d.external_id = state.id;
    d.url = state.id;
    d.title = info.title;
    d.bytes = std::move(r->body);
    d.file_name = "page.html";
    d.acl = opt_.acl;
    batch_.upserts.push_back(std::move(d));
    Keep(url, std::move(state));
  }

  Status MaybeEmit() {
    if (static_cast<int>(batch_.upserts.size()) >= opt_.batch_size || pending_ >= opt_.batch_size * 4)
      return Emit(/*final=*/false);
    return Status::Ok();
  }

  // In the store: the batch's pages are stamped with this run, and the last
  // batch drops the rows of earlier runs (a killed run's rows stay usable by
  // the next one until it completes). In the checkpoint (stores without item
  // state): mid-run, the previous pages updated with this run's (a killed
  // run still skips what it fetched); at the end exactly this run's pages.
  Status Emit(bool final) {
    if (in_store_) {
      batch_.checkpoint = json{{"run", run_}}.dump();
      batch_.item_run = run_;
      batch_.prune_items = final;
    } else {
      std::map<std::string, PageState> cp = current_;
      if (!final) cp.insert(previous_.begin(), previous_.end());
      batch_.checkpoint = ToJson(cp).dump();
    }
    Status st = ctx_->emit(batch_);
    batch_ = ConnectorBatch();
    pending_ = 0;
    return st;
  }

  WebOptions opt_;
  HttpClient http_;
  SyncContext* ctx_ = nullptr;
  web::Url start_;
  bool crawl_ = false;
  bool in_store_ = false;
  int64_t run_ = 1;
  std::deque<std::string> queue_;
  std::unordered_set<std::string> queued_, emitted_, seen_ids_;
  std::unordered_map<std::string, web::Robots> robots_;
  std::set<std::string> auth_origins_;
  Status refused_;
  std::unordered_map<std::string, std::string> lastmod_;  // normalized page URL -> sitemap <lastmod>
  std::map<std::string, PageState> previous_, current_;
  ConnectorBatch batch_;
  int pending_ = 0;
};

}  // namespace

std::unique_ptr<Connector> NewWebConnector(const WebOptions& options) {
  return std::make_unique<WebConnector>(options);
}

}  // namespace savoir
