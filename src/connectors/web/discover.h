// What the web connector reads besides page text: sitemaps (urlset and
// sitemap index), RSS 2.0 and Atom feeds, and a page's title, canonical URL
// and links (gumbo).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "connectors/web/url.h"

namespace savoir::web {

struct SitemapPage {
  std::string loc;      // <url><loc>
  std::string lastmod;  // <url><lastmod> as written (W3C datetime), "" when absent
};
struct Sitemap {
  std::vector<SitemapPage> pages;     // <urlset><url>
  std::vector<std::string> sitemaps;  // <sitemapindex><sitemap><loc>
};
// Largest sitemap read, uncompressed (the sitemaps.org limit).
constexpr size_t kMaxSitemapBytes = 50u << 20;
// `bytes` is the sitemap's XML, or that XML gzipped (sitemap.xml.gz: read
// whole, refused past kMaxSitemapBytes). kCorrupt when the XML does not parse
// or is neither kind, when the gzip stream is damaged, or when it is too large.
Result<Sitemap> ParseSitemap(const std::string& bytes);

// Item links of an RSS 2.0 (<item><link>) or Atom (<entry><link href>,
// rel="alternate" or none) feed; kCorrupt when it is neither.
Result<std::vector<std::string>> ParseFeed(const std::string& xml);

struct PageInfo {
  std::string title;      // <title>, whitespace collapsed
  std::string canonical;  // <link rel="canonical"> resolved, "" when absent
  std::vector<std::string> links;  // <a href> resolved and normalised, in order
  bool noindex = false;   // <meta name="robots" content="noindex">
};
PageInfo ExtractPage(const std::string& html, const Url& base);

}  // namespace savoir::web
