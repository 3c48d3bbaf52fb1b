#include "connectors/web/discover.h"

#include <gumbo.h>

#include <cctype>
#include <cstring>
#include <pugixml.hpp>
#include <zlib.h>
#include <unordered_set>

namespace savoir::web {
namespace {

constexpr int kMaxDepth = 512;

// Element name without its namespace prefix ("sm:loc" -> "loc").
std::string_view Local(const pugi::xml_node& n) {
  std::string_view name = n.name();
  size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

pugi::xml_node Child(const pugi::xml_node& n, std::string_view name) {
  for (auto c : n.children())
    if (Local(c) == name) return c;
  return {};
}

std::string Text(const pugi::xml_node& n) {
  std::string s = n.child_value();
  if (s.empty()) s = n.text().get();  // CDATA
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

Result<pugi::xml_node> Root(pugi::xml_document& doc, const std::string& xml) {
  auto r = doc.load_buffer(xml.data(), xml.size());
  if (!r) return Status(ErrorKind::kCorrupt, std::string("XML does not parse: ") + r.description());
  return doc.document_element();
}

std::string Collapse(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

const char* Attr(const GumboNode* node, const char* name) {
  const GumboAttribute* a = gumbo_get_attribute(&node->v.element.attributes, name);
  return a ? a->value : nullptr;
}

bool HasToken(const char* value, const char* token) {
  if (!value) return false;
  std::string v;
  for (const char* p = value; *p; ++p) v += static_cast<char>(std::tolower(static_cast<unsigned char>(*p)));
  size_t pos = 0, n = std::strlen(token);
  while ((pos = v.find(token, pos)) != std::string::npos) {
    bool left = pos == 0 || v[pos - 1] == ' ' || v[pos - 1] == ',';
    bool right = pos + n == v.size() || v[pos + n] == ' ' || v[pos + n] == ',';
    if (left && right) return true;
    pos += n;
  }
  return false;
}

std::string NodeText(const GumboNode* node) {
  std::string out;
  const GumboVector& kids = node->v.element.children;
  for (unsigned i = 0; i < kids.length; ++i) {
    auto* k = static_cast<const GumboNode*>(kids.data[i]);
    if (k->type == GUMBO_NODE_TEXT || k->type == GUMBO_NODE_WHITESPACE) out += k->v.text.text;
  }
  return out;
}

struct Walker {
  const Url& base;
  PageInfo* info;
  std::unordered_set<std::string> seen;

  void Walk(const GumboNode* node, int depth) {
    if (node->type != GUMBO_NODE_ELEMENT || depth > kMaxDepth) return;
    GumboTag tag = node->v.element.tag;
    if (tag == GUMBO_TAG_TITLE && info->title.empty()) {
      info->title = Collapse(NodeText(node));
    } else if (tag == GUMBO_TAG_LINK && info->canonical.empty() && HasToken(Attr(node, "rel"), "canonical")) {
      if (const char* href = Attr(node, "href")) info->canonical = ResolveUrl(base, href);
    } else if (tag == GUMBO_TAG_META && Attr(node, "name") && HasToken(Attr(node, "name"), "robots")) {
      info->noindex = HasToken(Attr(node, "content"), "noindex") || HasToken(Attr(node, "content"), "none");
    } else if (tag == GUMBO_TAG_A) {
      const char* href = Attr(node, "href");
      if (href && !HasToken(Attr(node, "rel"), "nofollow")) {
        std::string u = ResolveUrl(base, href);
        if (!u.empty() && seen.insert(u).second) info->links.push_back(std::move(u));
      }
    }
    const GumboVector& kids = node->v.element.children;
    for (unsigned i = 0; i < kids.length; ++i) Walk(static_cast<const GumboNode*>(kids.data[i]), depth + 1);
  }
};

// A gzip stream (RFC 1952) inflated, stopping with an error past `limit`
// bytes: a small .gz cannot grow into gigabytes.
Result<std::string> Gunzip(const std::string& gz, size_t limit) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return Status(ErrorKind::kInternal, "zlib: cannot start inflating");
  std::string out;
  char buf[64 * 1024];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(std::min<size_t>(gz.size(), UINT32_MAX));
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      return Status(ErrorKind::kCorrupt, rc == Z_BUF_ERROR ? "gzip stream is truncated" : "gzip stream is damaged");
    }
    out.append(buf, sizeof(buf) - z.avail_out);
    if (out.size() > limit) {
      inflateEnd(&z);
      return Status(ErrorKind::kCorrupt, "larger than " + std::to_string(limit >> 20) + " MB uncompressed");
    }
  }
  inflateEnd(&z);
  return out;
}

}  // namespace

Result<Sitemap> ParseSitemap(const std::string& bytes) {
  std::string inflated;
  const std::string* xml = &bytes;
  if (bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1f && static_cast<unsigned char>(bytes[1]) == 0x8b) {
    auto r = Gunzip(bytes, kMaxSitemapBytes);
    if (!r.ok()) return Status(r.status().kind(), "gzipped sitemap: " + r.status().message());
    inflated = std::move(*r);
    xml = &inflated;
  } else if (bytes.size() > kMaxSitemapBytes) {
    return Status(ErrorKind::kCorrupt, "larger than " + std::to_string(kMaxSitemapBytes >> 20) + " MB");
  }
  pugi::xml_document doc;
  SAVOIR_ASSIGN_OR_RETURN(pugi::xml_node root, Root(doc, *xml));
  Sitemap out;
  if (Local(root) == "urlset") {
    for (auto u : root.children())
      if (Local(u) == "url")
        if (std::string loc = Text(Child(u, "loc")); !loc.empty())
          out.pages.push_back({std::move(loc), Text(Child(u, "lastmod"))});
  } else if (Local(root) == "sitemapindex") {
    for (auto s : root.children())
      if (Local(s) == "sitemap")
        if (std::string loc = Text(Child(s, "loc")); !loc.empty()) out.sitemaps.push_back(loc);
  } else {
    return Status(ErrorKind::kCorrupt, "not a sitemap (root element <" + std::string(root.name()) + ">)");
  }
  return out;
}

Result<std::vector<std::string>> ParseFeed(const std::string& xml) {
  pugi::xml_document doc;
  SAVOIR_ASSIGN_OR_RETURN(pugi::xml_node root, Root(doc, xml));
  std::vector<std::string> out;
  if (Local(root) == "rss") {
    for (auto item : Child(root, "channel").children())
      if (Local(item) == "item")
        if (std::string link = Text(Child(item, "link")); !link.empty()) out.push_back(link);
  } else if (Local(root) == "feed") {
    for (auto entry : root.children()) {
      if (Local(entry) != "entry") continue;
      for (auto link : entry.children()) {
        if (Local(link) != "link") continue;
        std::string rel = link.attribute("rel").value();
        if (rel.empty() || rel == "alternate") {
          out.push_back(link.attribute("href").value());
          break;
        }
      }
    }
  } else {
    return Status(ErrorKind::kCorrupt, "not an RSS or Atom feed (root element <" + std::string(root.name()) + ">)");
  }
  return out;
}

PageInfo ExtractPage(const std::string& html, const Url& base) {
  PageInfo info;
  GumboOutput* out = gumbo_parse_with_options(&kGumboDefaultOptions, html.data(), html.size());
  if (!out) return info;
  Walker w{base, &info, {}};
  w.Walk(out->root, 0);
  gumbo_destroy_output(&kGumboDefaultOptions, out);
  return info;
}

}  // namespace savoir::web
