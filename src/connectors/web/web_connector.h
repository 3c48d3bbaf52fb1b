// Web sites and blogs: pages discovered from sitemaps (index files and
// gzipped sitemaps too),
// RSS/Atom feeds, or a breadth-first crawl of the start URL's host, up to
// max_pages; robots.txt obeyed (groups "savoir" then "*").
//
// Incremental: the store keeps, per fetched URL (Store::PutItemStates, one
// row per URL written with each batch), its ETag and Last-Modified, the
// document it became (canonical URL), its sitemap <lastmod> and, when
// crawling, its links, so a 304 costs one request and writes nothing, and a
// sitemap page whose <lastmod> has not moved costs no request at all; the checkpoint is only the run
// number, so memory does not grow with the state (stores without item state
// keep it in the checkpoint, as before). Pages answering
// 404/410, no longer discovered, newly disallowed or marked noindex are
// deleted at the end of a run; a run whose sitemap, feed or robots.txt cannot
// be read fails before deleting anything. Text is the page's main content
// (ParseBytes drops navigation, footers, cookie banners...).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "connectors/connector.h"
#include "net/http_client.h"

namespace savoir {

struct WebOptions {
  std::string start_url;              // crawled when there is no sitemap or feed
  std::vector<std::string> sitemaps;  // sitemap.xml or sitemap index URLs
  std::vector<std::string> feeds;     // RSS 2.0 / Atom URLs
  int max_pages = 1000;               // pages fetched per run
  AccessList acl = {"public"};
  int batch_size = 50;                // pages per committed batch
  // A credential header ("Name: value", see WebAuthHeader), sent only to the
  // site's own origins: the start URL's and the sitemaps' and feeds' (never
  // to another host a sitemap, feed or redirect points to). A 401 to a page,
  // or a 401/403 to robots.txt, a sitemap or a feed, then stops the run: the
  // credential was refused. A stored page that now redirects is kept.
  std::string auth_header;
  HttpOptions http;
};

std::unique_ptr<Connector> NewWebConnector(const WebOptions& options);

}  // namespace savoir
