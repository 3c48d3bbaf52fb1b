// What the web connector reads from sites (connectors/web): sitemaps (plain
// or gzipped: the inflating is bounded), RSS/Atom feeds, a page's title,
// canonical URL and links, and robots.txt. Links and canonical URLs handed
// to the crawl are absolute http(s) URLs; sitemap locations are non-empty.
#include <string>

#include "connectors/web/discover.h"
#include "connectors/web/robots.h"
#include "connectors/web/url.h"
#include "fuzz_target.h"

namespace {
bool IsHttpUrl(const std::string& u) { return u.rfind("http://", 0) == 0 || u.rfind("https://", 0) == 0; }
}  // namespace

SAVOIR_FUZZ_TARGET(web) {
  using namespace savoir;
  std::string in(fuzz::AsView(data, size));
  if (auto sm = web::ParseSitemap(in); sm.ok()) {
    for (const auto& p : sm->pages) SAVOIR_FUZZ_CHECK(!p.loc.empty());
    for (const auto& s : sm->sitemaps) SAVOIR_FUZZ_CHECK(!s.empty());
  }
  (void)web::ParseFeed(in);
  web::Url base;
  SAVOIR_FUZZ_CHECK(web::ParseUrl("https://www.example.com/blog/post?id=3", &base));
  web::PageInfo page = web::ExtractPage(in, base);
  for (const auto& l : page.links) SAVOIR_FUZZ_CHECK(IsHttpUrl(l));
  SAVOIR_FUZZ_CHECK(page.canonical.empty() || IsHttpUrl(page.canonical));
  web::Robots robots = web::Robots::Parse(in);
  (void)robots.Allowed("/");
  (void)robots.Allowed("/private/a?b=c");
  web::Url u;
  if (web::ParseUrl(in.substr(0, 2048), &u)) (void)web::NormalizeUrl(u.ToString());
  return 0;
}
