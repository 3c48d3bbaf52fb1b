// Web connector: URLs, robots.txt, sitemaps and feeds, page links, and the
// connector against an in-process site (crawl, robots, canonical
// duplicates, 304s, deletions).
#include <gtest/gtest.h>
#include <httplib.h>
#include <zlib.h>

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "connectors/sources.h"
#include "connectors/web/discover.h"
#include "connectors/web/robots.h"
#include "connectors/web/url.h"
#include "connectors/web/web_connector.h"
#include "local_server.h"

namespace savoir {
namespace {

TEST(WebUrl, ResolvesAndNormalizes) {
  web::Url base;
  ASSERT_TRUE(web::ParseUrl("HTTP://Example.COM:80/docs/a/page.html?x=1#frag", &base));
  EXPECT_EQ(base.ToString(), "http://example.com/docs/a/page.html?x=1");
  EXPECT_EQ(web::ResolveUrl(base, "other.html#s"), "http://example.com/docs/a/other.html");
  EXPECT_EQ(web::ResolveUrl(base, "../b/./c"), "http://example.com/docs/b/c");
  EXPECT_EQ(web::ResolveUrl(base, "/root"), "http://example.com/root");
  EXPECT_EQ(web::ResolveUrl(base, "?y=2"), "http://example.com/docs/a/page.html?y=2");
  EXPECT_EQ(web::ResolveUrl(base, "//cdn.example.com/x"), "http://cdn.example.com/x");
  EXPECT_EQ(web::ResolveUrl(base, "https://other.org"), "https://other.org/");
  EXPECT_EQ(web::ResolveUrl(base, "mailto:a@b.c"), "");
  EXPECT_EQ(web::ResolveUrl(base, "javascript:void(0)"), "");
  EXPECT_EQ(web::NormalizeUrl("ftp://x/y"), "");
}

TEST(WebRobots, GroupsAndLongestMatch) {
  auto r = web::Robots::Parse(
      "User-agent: *\nDisallow: /private/\nAllow: /private/public-part\n\n"
      "User-agent: otherbot\nDisallow: /\n");
  EXPECT_TRUE(r.Allowed("/docs/a"));
  EXPECT_FALSE(r.Allowed("/private/x"));
  EXPECT_TRUE(r.Allowed("/private/public-part/y"));
  // Our own group replaces "*".
  auto mine = web::Robots::Parse("User-agent: *\nDisallow: /\n\nUser-agent: Savoir\nUser-agent: x\nDisallow: /tmp\n");
  EXPECT_TRUE(mine.Allowed("/docs"));
  EXPECT_FALSE(mine.Allowed("/tmp/a"));
  auto glob = web::Robots::Parse("User-agent: *\nDisallow: /*.pdf$\nDisallow: /a*b\nDisallow:\n");
  EXPECT_FALSE(glob.Allowed("/x/y.pdf"));
  EXPECT_TRUE(glob.Allowed("/x/y.pdf?download=1"));
  EXPECT_FALSE(glob.Allowed("/a-long-b"));
  EXPECT_TRUE(glob.Allowed("/a-long"));
  EXPECT_TRUE(web::Robots().Allowed("/anything"));
}

TEST(WebDiscover, SitemapsAndFeeds) {
  auto sm = web::ParseSitemap(
      "<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>"
      "<url><loc> http://a.test/x </loc><lastmod>2026-11-02</lastmod></url><url><loc>http://a.test/y</loc></url>"
      "</urlset>");
  ASSERT_TRUE(sm.ok());
  ASSERT_EQ(sm->pages.size(), 2u);
  EXPECT_EQ(sm->pages[0].loc, "http://a.test/x");
  EXPECT_EQ(sm->pages[0].lastmod, "2026-11-02");
  EXPECT_EQ(sm->pages[1].loc, "http://a.test/y");
  EXPECT_EQ(sm->pages[1].lastmod, "");
  auto index = web::ParseSitemap("<sitemapindex><sitemap><loc>http://a.test/s1.xml</loc></sitemap></sitemapindex>");
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(index->sitemaps, std::vector<std::string>{"http://a.test/s1.xml"});
  EXPECT_FALSE(web::ParseSitemap("<html/>").ok());
  EXPECT_FALSE(web::ParseSitemap("<urlset><url>").ok());

  auto rss = web::ParseFeed("<rss version='2.0'><channel><item><link>http://a.test/p1</link></item>"
                            "<item><title>no link</title></item></channel></rss>");
  ASSERT_TRUE(rss.ok());
  EXPECT_EQ(*rss, std::vector<std::string>{"http://a.test/p1"});
  auto atom = web::ParseFeed("<feed xmlns='http://www.w3.org/2005/Atom'><entry><link rel='self' href='http://a.test/self'/>"
                             "<link href='http://a.test/p2'/></entry></feed>");
  ASSERT_TRUE(atom.ok());
  EXPECT_EQ(*atom, std::vector<std::string>{"http://a.test/p2"});
}

std::string Gzip(const std::string& data) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// sitemap.xml.gz is read like sitemap.xml; a damaged or truncated stream, or
// one that inflates past the sitemaps.org limit (a 50 KB file of 51 MB of
// spaces), is refused with a message saying which.
TEST(WebDiscover, GzippedSitemaps) {
  std::string xml = "<urlset><url><loc>http://a.test/z</loc><lastmod>2026-01-05T10:00:00Z</lastmod></url></urlset>";
  auto sm = web::ParseSitemap(Gzip(xml));
  ASSERT_TRUE(sm.ok()) << sm.status().ToString();
  ASSERT_EQ(sm->pages.size(), 1u);
  EXPECT_EQ(sm->pages[0].loc, "http://a.test/z");
  EXPECT_EQ(sm->pages[0].lastmod, "2026-01-05T10:00:00Z");

  std::string gz = Gzip(xml);
  auto truncated = web::ParseSitemap(gz.substr(0, gz.size() / 2));
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().kind(), ErrorKind::kCorrupt);
  EXPECT_NE(truncated.status().message().find("gzip"), std::string::npos) << truncated.status().ToString();
  std::string damaged = gz;
  damaged[12] ^= 0x5a;
  EXPECT_FALSE(web::ParseSitemap(damaged).ok());

  std::string bomb = Gzip("<urlset>" + std::string(web::kMaxSitemapBytes + (1 << 20), ' ') + "</urlset>");
  EXPECT_LT(bomb.size(), 100u * 1024);
  auto refused = web::ParseSitemap(bomb);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("larger than 50 MB"), std::string::npos) << refused.status().ToString();
}

TEST(WebDiscover, PageTitleCanonicalLinks) {
  web::Url base;
  ASSERT_TRUE(web::ParseUrl("http://a.test/docs/page", &base));
  auto info = web::ExtractPage(
      "<html><head><title> The\n Title </title><link rel='Canonical' href='/docs/main#x'></head><body>"
      "<a href='other'>o</a><a href='other#again'>o</a><a href='mailto:x@y'>m</a>"
      "<a rel='nofollow' href='/spam'>s</a><a href='https://b.test/'>b</a></body></html>",
      base);
  EXPECT_EQ(info.title, "The Title");
  EXPECT_EQ(info.canonical, "http://a.test/docs/main");
  EXPECT_EQ(info.links, (std::vector<std::string>{"http://a.test/docs/other", "https://b.test/"}));
  EXPECT_FALSE(info.noindex);
  EXPECT_TRUE(web::ExtractPage("<meta name=robots content='noindex, follow'>", base).noindex);
}

// A small site served in-process: / links to /a, /a-copy (canonical /a),
// /private/p (disallowed), /b; ETags answered with 304.
class Site {
 public:
  Site() {
    pages_ = {{"/", "<a href='/a'>a</a><a href='/a-copy'>c</a><a href='/private/p'>p</a><a href='/b'>b</a>"},
              {"/a", "<title>A</title><p>alpha text</p>"},
              {"/a-copy", "<link rel=canonical href='/a'><p>alpha text</p>"},
              {"/private/p", "<p>secret</p>"},
              {"/b", "<p>bravo</p>"}};
    server_.Get("/robots.txt", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("User-agent: *\nDisallow: /private/\n", "text/plain");
    });
    server_.Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard lock(mu_);
      ++hits_[req.path];
      auto it = pages_.find(req.path);
      if (it == pages_.end()) {
        res.status = 404;
        return;
      }
      std::string etag = "\"" + std::to_string(std::hash<std::string>{}(it->second)) + "\"";
      res.set_header("ETag", etag);
      if (req.get_header_value("If-None-Match") == etag) {
        res.status = 304;
        ++not_modified_;
        return;
      }
      res.set_content("<html><body>" + it->second + "</body></html>", "text/html");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~Site() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }
  void Remove(const std::string& path) {
    std::lock_guard lock(mu_);
    pages_.erase(path);
  }
  int hits(const std::string& path) {
    std::lock_guard lock(mu_);
    return hits_[path];
  }
  int not_modified() {
    std::lock_guard lock(mu_);
    return not_modified_;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::map<std::string, std::string> pages_;
  std::map<std::string, int> hits_;
  int not_modified_ = 0;
};

// Runs the connector like the framework: `stored` follows the batches.
struct SyncRun {
  std::set<std::string> upserted, deleted;
  std::string checkpoint;
};
SyncRun Sync(const WebOptions& o, const std::string& checkpoint, std::set<std::string>* stored) {
  SyncRun run;
  SyncContext ctx;
  for (const auto& s : *stored) ctx.stored.emplace(s, 1);
  ctx.emit = [&](ConnectorBatch& b) {
    for (const auto& d : b.upserts) {
      EXPECT_EQ(d.acl, o.acl);
      EXPECT_EQ(d.file_name, "page.html");
      run.upserted.insert(d.external_id);
      stored->insert(d.external_id);
    }
    for (const auto& d : b.deletions) {
      run.deleted.insert(d);
      stored->erase(d);
    }
    run.checkpoint = b.checkpoint;
    return Status::Ok();
  };
  EXPECT_TRUE(NewWebConnector(o)->Run(checkpoint, ctx).ok());
  return run;
}

TEST(WebConnector, CrawlRobotsCanonicalConditionalAndDeletion) {
  Site site;
  WebOptions o;
  o.start_url = site.url();
  o.acl = {"group:staff"};
  o.http.requests_per_minute = 0;
  std::set<std::string> stored;
  SyncRun first = Sync(o, "", &stored);
  std::string base = site.url();
  EXPECT_EQ(first.upserted, (std::set<std::string>{base, base + "a", base + "b"}));
  EXPECT_EQ(site.hits("/private/p"), 0);
  EXPECT_EQ(site.hits("/a-copy"), 1);

  SyncRun second = Sync(o, first.checkpoint, &stored);
  EXPECT_TRUE(second.upserted.empty());
  EXPECT_TRUE(second.deleted.empty());
  EXPECT_EQ(site.not_modified(), 4);  // /, /a, /a-copy, /b

  site.Remove("/b");
  SyncRun third = Sync(o, second.checkpoint, &stored);
  EXPECT_TRUE(third.upserted.empty());
  EXPECT_EQ(third.deleted, std::set<std::string>{base + "b"});
  EXPECT_EQ(stored, (std::set<std::string>{base, base + "a"}));

  o.max_pages = 1;  // only / now: /a falls out of the crawl
  SyncRun fourth = Sync(o, third.checkpoint, &stored);
  EXPECT_EQ(fourth.deleted, std::set<std::string>{base + "a"});
}

// A site whose pages answer 40 ms late: the crawl keeps several requests in
// flight (never more than four), and still fetches what a one-at-a-time
// breadth-first crawl fetches, in its order.
TEST(WebConnector, FetchesSeveralPagesAtOnceInCrawlOrder) {
  testing::LocalServer site;
  httplib::Server& server = site.server;
  std::mutex mu;
  int in_flight = 0, most = 0;
  std::vector<std::string> order;
  server.Get("/robots.txt", [](const httplib::Request&, httplib::Response& res) { res.status = 404; });
  server.Get(".*", [&](const httplib::Request& req, httplib::Response& res) {
    {
      std::lock_guard lock(mu);
      most = std::max(most, ++in_flight);
      order.push_back(req.path);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
    std::string body = "<p>page " + req.path + "</p>";
    if (req.path == "/")
      for (int i = 0; i < 12; ++i) body += "<a href='/p" + std::to_string(i) + "'>p</a>";
    res.set_content("<html><body>" + body + "</body></html>", "text/html");
    std::lock_guard lock(mu);
    --in_flight;
  });
  site.Start();
  std::string base = site.url() + "/";

  WebOptions o;
  o.start_url = base;
  o.http.requests_per_minute = 0;
  std::set<std::string> stored;
  SyncRun all = Sync(o, "", &stored);
  EXPECT_EQ(all.upserted.size(), 13u);
  EXPECT_GE(most, 2);
  EXPECT_LE(most, 4);

  o.max_pages = 6;  // the start page and its first five links, as a breadth-first crawl takes them
  std::set<std::string> fresh;
  {
    std::lock_guard lock(mu);
    order.clear();
  }
  SyncRun some = Sync(o, "", &fresh);
  EXPECT_EQ(some.upserted, (std::set<std::string>{base, base + "p0", base + "p1", base + "p2", base + "p3", base + "p4"}));
  site.Stop();
  std::vector<std::string> expected = {"/", "/p0", "/p1", "/p2", "/p3", "/p4"};
  std::set<std::string> got(order.begin(), order.end());
  EXPECT_EQ(got, std::set<std::string>(expected.begin(), expected.end()));
}

// A sitemap page whose <lastmod> has not moved since it was fetched costs no
// request; one whose <lastmod> moved is fetched again; both stay stored.
TEST(WebConnector, SitemapLastmodSkipsUnchangedPages) {
  testing::LocalServer site;
  httplib::Server& server = site.server;
  std::mutex mu;
  std::map<std::string, int> hits;
  std::string lastmod_b = "2026-11-01";
  std::string base;  // set once the port is known, before any request
  server.Get("/robots.txt", [](const httplib::Request&, httplib::Response& res) { res.status = 404; });
  server.Get("/sitemap.xml.gz", [&](const httplib::Request&, httplib::Response& res) {
    std::lock_guard lock(mu);
    std::string xml = "<urlset><url><loc>" + base + "/a</loc><lastmod>2026-10-01</lastmod></url><url><loc>" + base +
                      "/b</loc><lastmod>" + lastmod_b + "</lastmod></url><url><loc>" + base + "/c</loc></url></urlset>";
    res.set_content(Gzip(xml), "application/gzip");
  });
  server.Get(".*", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    ++hits[req.path];
    res.set_content("<html><body><p>page " + req.path + "</p></body></html>", "text/html");
  });
  site.Start();
  {
    std::lock_guard lock(mu);
    base = site.url();
  }

  WebOptions o;
  o.start_url = base + "/";
  o.sitemaps = {base + "/sitemap.xml.gz"};
  o.http.requests_per_minute = 0;
  std::set<std::string> stored;
  SyncRun first = Sync(o, "", &stored);
  EXPECT_EQ(first.upserted.size(), 3u);

  SyncRun second = Sync(o, first.checkpoint, &stored);
  EXPECT_TRUE(second.deleted.empty());
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(hits["/a"], 1);  // lastmod unchanged: not asked again
    EXPECT_EQ(hits["/b"], 1);
    EXPECT_EQ(hits["/c"], 2);  // no lastmod: asked every run
    lastmod_b = "2026-11-20";
  }
  SyncRun third = Sync(o, second.checkpoint, &stored);
  EXPECT_TRUE(third.deleted.empty());
  EXPECT_EQ(third.upserted.count(base + "/b"), 1u);  // (and /c: no ETag, no lastmod, so read again)
  EXPECT_EQ(third.upserted.count(base + "/a"), 0u);
  EXPECT_EQ(stored.size(), 3u);
  site.Stop();
  EXPECT_EQ(hits["/a"], 1);
  EXPECT_EQ(hits["/b"], 2);
}

// A site behind basic auth: the credential goes to its own origin (robots,
// sitemap, pages) and never to another host its sitemap lists; once it is
// refused (401), the run stops with that reason and deletes nothing.
TEST(WebConnector, SendsItsCredentialOnlyToTheSitesOwnOriginAndStopsWhenRefused) {
  testing::LocalServer site, other;
  std::mutex mu;
  std::string expected = "Basic dXNlcjpwYXNz";  // user:pass
  std::string base, other_base;
  std::vector<std::string> other_auth;  // Authorization headers the other host received
  site.server.Get("/robots.txt", [](const httplib::Request&, httplib::Response& res) { res.status = 404; });
  site.server.Get(".*", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    if (req.get_header_value("Authorization") != expected) {
      res.status = 401;
      res.set_header("WWW-Authenticate", "Basic realm=intranet");
      return;
    }
    if (req.path == "/sitemap.xml") {
      res.set_content("<urlset><url><loc>" + base + "/a</loc></url><url><loc>" + base + "/b</loc></url><url><loc>" +
                          other_base + "/x</loc></url></urlset>",
                      "application/xml");
      return;
    }
    res.set_content("<html><body><p>intranet page " + req.path + "</p><a href='/c'>c</a></body></html>", "text/html");
  });
  other.server.Get(".*", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    other_auth.push_back(req.get_header_value("Authorization"));
    if (req.path == "/robots.txt") {
      res.status = 404;
      return;
    }
    res.set_content("<html><body><p>elsewhere</p></body></html>", "text/html");
  });
  site.Start();
  other.Start();
  {
    std::lock_guard lock(mu);
    base = site.url();
    other_base = other.url();
  }
  auto header = WebAuthHeader("basic", "user:pass");
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(*header, "Authorization: Basic dXNlcjpwYXNz");

  WebOptions o;
  o.start_url = base + "/";
  o.sitemaps = {base + "/sitemap.xml"};
  o.auth_header = *header;
  o.http.requests_per_minute = 0;
  std::set<std::string> stored;
  SyncRun first = Sync(o, "", &stored);
  EXPECT_EQ(first.upserted, (std::set<std::string>{base + "/a", base + "/b", other_base + "/x"}));
  {
    std::lock_guard lock(mu);
    ASSERT_EQ(other_auth.size(), 2u);  // its robots.txt and /x
    for (const auto& a : other_auth) EXPECT_EQ(a, "") << "the credential went to another host";
    expected = "Basic other";  // the credential is revoked
  }

  // Refused on the sitemap: the run fails with the reason; nothing deleted.
  auto run = [&](const WebOptions& opts, std::set<std::string>* deleted) {
    SyncContext ctx;
    for (const auto& id : stored) ctx.stored.emplace(id, 1);
    ctx.emit = [&](ConnectorBatch& b) {
      deleted->insert(b.deletions.begin(), b.deletions.end());
      return Status::Ok();
    };
    return NewWebConnector(opts)->Run(first.checkpoint, ctx);
  };
  std::set<std::string> deleted;
  Status st = run(o, &deleted);
  EXPECT_EQ(st.kind(), ErrorKind::kPermissionDenied) << st.ToString();
  EXPECT_NE(st.message().find("refused the source's credential (HTTP 401)"), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find("dXNlcjpwYXNz"), std::string::npos) << "the error shows the credential";
  EXPECT_TRUE(deleted.empty());

  // Refused on a page (a crawl: robots.txt is public here).
  WebOptions crawl = o;
  crawl.sitemaps.clear();
  st = run(crawl, &deleted);
  EXPECT_EQ(st.kind(), ErrorKind::kPermissionDenied) << st.ToString();
  EXPECT_NE(st.message().find("HTTP 401) on " + base + "/"), std::string::npos) << st.message();
  EXPECT_TRUE(deleted.empty());

  // Without a credential a 401 page is one page's error, not the run's.
  crawl.auth_header.clear();
  st = run(crawl, &deleted);
  EXPECT_TRUE(st.ok()) << st.ToString();
}

// An expired session cookie: every page of the site redirects to its login
// page. The stored pages are kept (and reported), not deleted; a 403 on one
// page (its own permissions) is that page's error, not a refusal.
TEST(WebConnector, AStoredPageThatRedirectsToALoginPageIsKept) {
  testing::LocalServer site;
  std::mutex mu;
  bool expired = false;
  site.server.Get("/robots.txt", [](const httplib::Request&, httplib::Response& res) { res.status = 404; });
  site.server.Get(".*", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    if (req.path == "/login") {
      res.set_content("<html><body><form>Sign in</form></body></html>", "text/html");
      return;
    }
    if (expired || req.get_header_value("Cookie") != "session=abc") {
      res.status = 302;
      res.set_header("Location", "/login?next=" + req.path);
      return;
    }
    if (req.path == "/hr") {
      res.status = 403;  // not this account's
      return;
    }
    res.set_content("<html><body><p>page " + req.path + "</p><a href='/a'>a</a><a href='/b'>b</a>"
                    "<a href='/hr'>hr</a></body></html>",
                    "text/html");
  });
  site.Start();
  const std::string base = site.url();
  WebOptions o;
  o.start_url = base + "/";
  o.auth_header = "Cookie: session=abc";
  o.http.requests_per_minute = 0;
  std::set<std::string> stored;
  SyncRun first = Sync(o, "", &stored);
  EXPECT_EQ(first.upserted, (std::set<std::string>{base + "/", base + "/a", base + "/b"}));
  {
    std::lock_guard lock(mu);
    expired = true;
  }
  SyncRun second = Sync(o, first.checkpoint, &stored);
  EXPECT_TRUE(second.deleted.empty()) << "an expired session deleted the site";
  for (const char* p : {"/", "/a", "/b"}) EXPECT_TRUE(stored.count(base + p)) << p;
}

}  // namespace
}  // namespace savoir
