#include "connectors/confluence/export_connector.h"

#include <gumbo.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "connectors/slack/export_reader.h"
#include "ingest/parse/parser.h"

namespace savoir {
namespace {

const char* Attr(const GumboNode* n, const char* name) {
  if (n->type != GUMBO_NODE_ELEMENT) return nullptr;
  const GumboAttribute* a = gumbo_get_attribute(&n->v.element.attributes, name);
  return a ? a->value : nullptr;
}

const GumboNode* ById(const GumboNode* n, const char* id) {
  if (n->type != GUMBO_NODE_ELEMENT) return nullptr;
  if (const char* v = Attr(n, "id"); v && std::string(v) == id) return n;
  const GumboVector& kids = n->v.element.children;
  for (unsigned i = 0; i < kids.length; ++i)
    if (const GumboNode* f = ById(static_cast<const GumboNode*>(kids.data[i]), id)) return f;
  return nullptr;
}

void TextOf(const GumboNode* n, std::string* out) {
  if (n->type == GUMBO_NODE_TEXT || n->type == GUMBO_NODE_WHITESPACE || n->type == GUMBO_NODE_CDATA) {
    *out += n->v.text.text;
    return;
  }
  if (n->type != GUMBO_NODE_ELEMENT) return;
  const GumboVector& kids = n->v.element.children;
  for (unsigned i = 0; i < kids.length; ++i) TextOf(static_cast<const GumboNode*>(kids.data[i]), out);
}

std::string Trim(std::string s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = !out.empty();
    } else {
      if (space) out += ' ';
      space = false;
      out += c;
    }
  }
  return out;
}

void Anchors(const GumboNode* n, std::vector<std::string>* out) {
  if (n->type != GUMBO_NODE_ELEMENT) return;
  if (n->v.element.tag == GUMBO_TAG_A) {
    std::string t;
    TextOf(n, &t);
    out->push_back(Trim(t));
    return;
  }
  const GumboVector& kids = n->v.element.children;
  for (unsigned i = 0; i < kids.length; ++i) Anchors(static_cast<const GumboNode*>(kids.data[i]), out);
}

// "Engineering : Deploy runbook" -> "Deploy runbook" (the space name prefix).
std::string PageTitle(const std::string& text, const std::string& space_name) {
  if (!space_name.empty() && text.rfind(space_name + " : ", 0) == 0) return text.substr(space_name.size() + 3);
  if (auto p = text.find(" : "); p != std::string::npos) return text.substr(p + 3);
  return text;
}

// "ENG/Deploy-runbook_65551.html" -> "65551"; "ENG/65551.html" -> "65551";
// otherwise the base name without ".html".
std::string PageId(const std::string& rel) {
  std::string base = rel.substr(rel.rfind('/') + 1);
  base = base.substr(0, base.size() - 5);
  size_t i = base.size();
  while (i > 0 && std::isdigit(static_cast<unsigned char>(base[i - 1]))) --i;
  if (i < base.size() && (i == 0 || base[i - 1] == '_')) return base.substr(i);
  return base;
}

class ConfluenceExportConnector final : public Connector {
 public:
  explicit ConfluenceExportConnector(ConfluenceExportOptions opt) : opt_(std::move(opt)) {}

  Status Run(const std::string&, SyncContext& ctx) override {
    SAVOIR_ASSIGN_OR_RETURN(auto reader, OpenExport(opt_.path));
    std::vector<std::string> files = reader->Files();
    // The space folder: the one holding index.html (top level or one down).
    std::string dir;
    bool found = false;
    for (const auto& f : files) {
      if (f == "index.html") { dir = ""; found = true; break; }
      if (std::count(f.begin(), f.end(), '/') == 1 && f.size() > 11 && f.compare(f.size() - 11, 11, "/index.html") == 0) {
        dir = f.substr(0, f.size() - 10);
        found = true;
        break;
      }
    }
    if (!found)
      return Status(ErrorKind::kCorrupt, "not a Confluence HTML space export (no index.html): " + opt_.path);
    std::string key = opt_.space_key;
    if (key.empty() && !dir.empty()) key = dir.substr(0, dir.size() - 1);
    if (key.empty())
      return Status(ErrorKind::kInvalidArgument,
                    "the export has no space folder: give the space key with --space KEY");
    AccessList acl = opt_.acl.empty() ? AccessList{"group:confluence-space:" + key} : opt_.acl;
    std::string space_name;
    {
      SAVOIR_ASSIGN_OR_RETURN(std::string index, reader->Read(dir + "index.html"));
      ExportedPage home = ParseExportedPage(index);
      space_name = home.title;  // "Space name" or "Space name : Home"
      if (auto p = space_name.find(" : "); p != std::string::npos) space_name = space_name.substr(0, p);
    }
    std::set<std::string> produced;
    ConnectorBatch batch;
    for (const auto& f : files) {
      if (f.size() <= dir.size() + 5 || f.compare(0, dir.size(), dir) != 0) continue;
      std::string rel = f.substr(dir.size());
      if (rel.find('/') != std::string::npos || rel == "index.html") continue;  // attachments/, styles/...
      if (rel.size() < 6 || rel.compare(rel.size() - 5, 5, ".html") != 0) continue;
      auto html = reader->Read(f);
      if (!html.ok()) {
        batch.errors.push_back(f + ": " + html.status().message());
        continue;
      }
      ExportedPage page = ParseExportedPage(*html);
      std::string id = PageId(rel);
      std::string ext = key + "/" + id;
      auto parsed = ParseBytes("<html><body>" + page.body_html + "</body></html>", "page.html");
      if (!parsed.ok()) {
        batch.errors.push_back(f + ": " + parsed.status().message());
        if (ctx.stored.count(ext)) produced.insert(ext);  // keep what was stored
        continue;
      }
      ConnectorDocument d;
      d.external_id = ext;
      d.title = PageTitle(page.title, space_name);
      // Breadcrumbs: the space home first (dropped), then the ancestors.
      std::vector<std::string> crumbs = page.breadcrumbs;
      if (!crumbs.empty()) crumbs.erase(crumbs.begin());
      if (!crumbs.empty() && crumbs.back() == d.title) crumbs.pop_back();
      std::string prefix;
      for (const auto& c : crumbs) prefix += (prefix.empty() ? "" : " > ") + c;
      parsed->title = d.title;
      parsed->heading_prefix = prefix;
      d.text = parsed->text;
      d.parsed = std::move(parsed).value();
      d.acl = acl;
      nlohmann::json meta = {{"space", key}, {"type", "page"}, {"file", rel}, {"ancestors", crumbs}};
      d.metadata_json = meta.dump();
      produced.insert(ext);
      batch.upserts.push_back(std::move(d));
      if (batch.upserts.size() >= opt_.batch_size) {
        SAVOIR_RETURN_IF_ERROR(ctx.emit(batch));
        batch = ConnectorBatch();
      }
    }
    for (const auto& [ext, id] : ctx.stored)
      if (!produced.count(ext)) batch.deletions.push_back(ext);
    return ctx.emit(batch);
  }

 private:
  ConfluenceExportOptions opt_;
};

}  // namespace

ExportedPage ParseExportedPage(const std::string& html) {
  ExportedPage page;
  GumboOutput* out = gumbo_parse_with_options(&kGumboDefaultOptions, html.data(), html.size());
  if (const GumboNode* t = ById(out->root, "title-text")) {
    TextOf(t, &page.title);
    page.title = Trim(page.title);
  }
  if (page.title.empty()) {
    // Fall back to <title>.
    std::function<const GumboNode*(const GumboNode*)> find = [&](const GumboNode* n) -> const GumboNode* {
      if (n->type != GUMBO_NODE_ELEMENT) return nullptr;
      if (n->v.element.tag == GUMBO_TAG_TITLE) return n;
      const GumboVector& kids = n->v.element.children;
      for (unsigned i = 0; i < kids.length; ++i)
        if (auto* f = find(static_cast<const GumboNode*>(kids.data[i]))) return f;
      return nullptr;
    };
    if (const GumboNode* t = find(out->root)) {
      TextOf(t, &page.title);
      page.title = Trim(page.title);
    }
  }
  if (const GumboNode* b = ById(out->root, "breadcrumbs")) Anchors(b, &page.breadcrumbs);
  if (const GumboNode* m = ById(out->root, "main-content")) {
    const GumboElement& e = m->v.element;
    size_t start = e.start_pos.offset + e.original_tag.length;
    size_t end = e.end_pos.offset;
    if (e.original_tag.length > 0 && end >= start && end <= html.size()) page.body_html = html.substr(start, end - start);
  }
  gumbo_destroy_output(&kGumboDefaultOptions, out);
  return page;
}

std::unique_ptr<Connector> NewConfluenceExportConnector(const ConfluenceExportOptions& options) {
  return std::make_unique<ConfluenceExportConnector>(options);
}

}  // namespace savoir
