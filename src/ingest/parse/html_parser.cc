// HTML via gumbo: pick the main content, drop boilerplate (scripts, nav,
// cookie banners...), and emit headings, paragraphs, list items, code,
// tables and quotes as blocks. Gumbo needs UTF-8, so the charset is settled
// first (BOM, valid UTF-8, <meta charset>, then uchardet).
#include <gumbo.h>

#include <cstring>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "ingest/parse/doc_builder.h"
#include "ingest/parse/encoding.h"
#include "ingest/parse/formats.h"

namespace savoir::parse {
namespace {

// Deeper nesting than this is adversarial; stop before the stack does.
constexpr int kMaxDepth = 512;

const char* Attr(const GumboNode* node, const char* name) {
  const GumboAttribute* a = gumbo_get_attribute(&node->v.element.attributes, name);
  return a ? a->value : nullptr;
}

bool IsSkippedTag(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_SCRIPT: case GUMBO_TAG_STYLE: case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_TEMPLATE: case GUMBO_TAG_NAV: case GUMBO_TAG_HEADER:
    case GUMBO_TAG_FOOTER: case GUMBO_TAG_ASIDE: case GUMBO_TAG_FORM:
    case GUMBO_TAG_IFRAME: case GUMBO_TAG_SVG: case GUMBO_TAG_MATH:
    case GUMBO_TAG_HEAD: case GUMBO_TAG_BUTTON: case GUMBO_TAG_SELECT:
    case GUMBO_TAG_OBJECT: case GUMBO_TAG_EMBED: case GUMBO_TAG_CANVAS:
      return true;
    default:
      return false;
  }
}

// Class/id words that mark site chrome rather than content. Matched against
// whole tokens split on space, '-' and '_' so "menu-item" and "cookie_bar"
// match but "commenu" or "navigator-guide" prose classes do not.
bool IsBoilerplateToken(std::string_view tok) {
  static const char* kWords[] = {"cookie", "cookies", "consent", "gdpr", "navbar", "nav",
                                 "menu", "breadcrumb", "breadcrumbs", "sidebar", "skiplink", "skip",
                                 "advert", "advertisement", "ads", "share", "social", "popup",
                                 "modal", "newsletter"};
  for (const char* w : kWords) {
    if (tok == w) return true;
  }
  return false;
}

bool IsBoilerplate(const GumboNode* node) {
  if (Attr(node, "hidden")) return true;
  if (const char* aria = Attr(node, "aria-hidden"); aria && strcmp(aria, "true") == 0) return true;
  if (const char* role = Attr(node, "role")) {
    std::string r = AsciiLower(role);
    if (r == "navigation" || r == "banner" || r == "contentinfo" || r == "complementary" ||
        r == "search" || r == "menu" || r == "menubar" || r == "dialog" || r == "alertdialog") {
      return true;
    }
  }
  for (const char* name : {"class", "id"}) {
    const char* v = Attr(node, name);
    if (!v) continue;
    std::string s = AsciiLower(v);
    size_t start = 0;
    for (size_t i = 0; i <= s.size(); ++i) {
      if (i == s.size() || s[i] == ' ' || s[i] == '-' || s[i] == '_') {
        if (i > start && IsBoilerplateToken(std::string_view(s).substr(start, i - start))) return true;
        start = i + 1;
      }
    }
  }
  return false;
}

bool IsBlockTag(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_P: case GUMBO_TAG_DIV: case GUMBO_TAG_SECTION: case GUMBO_TAG_ARTICLE:
    case GUMBO_TAG_MAIN: case GUMBO_TAG_UL: case GUMBO_TAG_OL: case GUMBO_TAG_DL:
    case GUMBO_TAG_DT: case GUMBO_TAG_DD: case GUMBO_TAG_FIGURE: case GUMBO_TAG_FIGCAPTION:
    case GUMBO_TAG_ADDRESS: case GUMBO_TAG_HR: case GUMBO_TAG_CENTER: case GUMBO_TAG_FIELDSET:
    case GUMBO_TAG_DETAILS: case GUMBO_TAG_SUMMARY: case GUMBO_TAG_BODY: case GUMBO_TAG_HTML:
    case GUMBO_TAG_CAPTION: case GUMBO_TAG_TR: case GUMBO_TAG_TD: case GUMBO_TAG_TH:
      return true;
    default:
      return false;
  }
}

int HeadingLevel(GumboTag tag) {
  switch (tag) {
    case GUMBO_TAG_H1: return 1;
    case GUMBO_TAG_H2: return 2;
    case GUMBO_TAG_H3: return 3;
    case GUMBO_TAG_H4: return 4;
    case GUMBO_TAG_H5: return 5;
    case GUMBO_TAG_H6: return 6;
    default: return 0;
  }
}

// All text below `node`, whitespace untouched (for <pre> and <title>).
void RawText(const GumboNode* node, std::string* out, int depth = 0) {
  if (depth > kMaxDepth) return;
  if (node->type == GUMBO_NODE_TEXT || node->type == GUMBO_NODE_WHITESPACE ||
      node->type == GUMBO_NODE_CDATA) {
    out->append(node->v.text.text);
  } else if (node->type == GUMBO_NODE_ELEMENT || node->type == GUMBO_NODE_TEMPLATE) {
    if (node->v.element.tag == GUMBO_TAG_SCRIPT || node->v.element.tag == GUMBO_TAG_STYLE) return;
    if (node->v.element.tag == GUMBO_TAG_BR) out->push_back('\n');
    const GumboVector& kids = node->v.element.children;
    for (unsigned i = 0; i < kids.length; ++i) {
      RawText(static_cast<const GumboNode*>(kids.data[i]), out, depth + 1);
    }
  }
}

const GumboNode* FindFirst(const GumboNode* node, GumboTag tag, int* count, int depth = 0) {
  if (node->type != GUMBO_NODE_ELEMENT || depth > kMaxDepth) return nullptr;
  const GumboNode* found = nullptr;
  if (node->v.element.tag == tag) {
    ++*count;
    found = node;
  }
  const GumboVector& kids = node->v.element.children;
  for (unsigned i = 0; i < kids.length; ++i) {
    const GumboNode* f = FindFirst(static_cast<const GumboNode*>(kids.data[i]), tag, count, depth + 1);
    if (!found) found = f;
  }
  return found;
}

class Extractor {
 public:
  explicit Extractor(DocBuilder* b) : b_(b) {}

  void Walk(const GumboNode* node, int depth) {
    if (depth > kMaxDepth) return;
    if (node->type == GUMBO_NODE_TEXT || node->type == GUMBO_NODE_CDATA) {
      AppendInline(node->v.text.text);
      return;
    }
    if (node->type == GUMBO_NODE_WHITESPACE) {
      AppendInline(" ");
      return;
    }
    if (node->type != GUMBO_NODE_ELEMENT) return;
    const GumboTag tag = node->v.element.tag;
    if (IsSkippedTag(tag)) return;
    // A class on <body> like "menu-open" must not drop the whole page.
    if (tag != GUMBO_TAG_BODY && tag != GUMBO_TAG_HTML && tag != GUMBO_TAG_MAIN &&
        tag != GUMBO_TAG_ARTICLE && IsBoilerplate(node)) {
      return;
    }

    if (tag == GUMBO_TAG_BR) {
      buf_ += '\n';
      return;
    }
    if (int level = HeadingLevel(tag)) {
      Flush();
      WalkChildren(node, depth);
      std::string h = CollapseWhitespace(buf_);
      buf_.clear();
      if (level == 1 && first_h1_.empty()) first_h1_ = h;
      b_->Add(BlockKind::kHeading, h, level);
      return;
    }
    if (tag == GUMBO_TAG_PRE) {
      Flush();
      std::string code;
      RawText(node, &code);
      AddPreformatted(code);
      return;
    }
    if (tag == GUMBO_TAG_TABLE) {
      Flush();
      EmitTable(node, depth);
      return;
    }
    BlockKind kind = kinds_.back();
    bool pushes = false;
    if (tag == GUMBO_TAG_LI || tag == GUMBO_TAG_DT || tag == GUMBO_TAG_DD) {
      kind = BlockKind::kListItem;
      pushes = true;
    } else if (tag == GUMBO_TAG_BLOCKQUOTE) {
      kind = BlockKind::kQuote;
      pushes = true;
    }
    bool block = pushes || IsBlockTag(tag);
    if (block) Flush();
    if (pushes) kinds_.push_back(kind);
    WalkChildren(node, depth);
    if (block) Flush();
    if (pushes) kinds_.pop_back();
  }

  void Flush() {
    // Inline whitespace was collapsed on entry; <br> newlines remain.
    std::string out;
    out.reserve(buf_.size());
    for (size_t i = 0; i < buf_.size(); ++i) {
      char c = buf_[i];
      if (c == ' ' && ((!out.empty() && out.back() == '\n') || (i + 1 < buf_.size() && buf_[i + 1] == '\n'))) continue;
      if (c == '\n' && out.size() >= 2 && out.back() == '\n' && out[out.size() - 2] == '\n') continue;
      out += c;
    }
    b_->Add(kinds_.back(), out);
    buf_.clear();
  }

  const std::string& first_h1() const { return first_h1_; }

  // Whole documents are sometimes wrapped in one <pre> (plain-text reports
  // served as HTML); split on blank lines so the chunker gets paragraphs.
  void AddPreformatted(const std::string& code) {
    size_t start = 0;
    while (start < code.size()) {
      size_t gap = code.find("\n\n", start);
      if (gap == std::string::npos) gap = code.size();
      // Keep trailing/leading spaces inside lines: indentation is meaning in code.
      std::string_view piece = std::string_view(code).substr(start, gap - start);
      while (!piece.empty() && piece.front() == '\n') piece.remove_prefix(1);
      b_->Add(BlockKind::kCode, piece);
      start = gap + 2;
    }
  }

 private:
  void WalkChildren(const GumboNode* node, int depth) {
    const GumboVector& kids = node->v.element.children;
    for (unsigned i = 0; i < kids.length; ++i) {
      Walk(static_cast<const GumboNode*>(kids.data[i]), depth + 1);
    }
  }

  void AppendInline(std::string_view text) {
    for (size_t i = 0; i < text.size(); ++i) {
      char c = text[i];
      bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
      // &nbsp; (U+00A0) is layout glue, not content: treat it as a space.
      if (c == '\xC2' && i + 1 < text.size() && text[i + 1] == '\xA0') {
        space = true;
        ++i;
      }
      if (space) {
        if (!buf_.empty() && buf_.back() != ' ' && buf_.back() != '\n') buf_ += ' ';
      } else {
        buf_ += c;
      }
    }
  }

  // Rows on lines, cells joined by " | ". Nested tables are flattened into
  // their cell, which keeps layout tables readable.
  void CollectRows(const GumboNode* node, std::vector<std::string>* rows, int depth) {
    if (node->type != GUMBO_NODE_ELEMENT || depth > kMaxDepth) return;
    const GumboVector& kids = node->v.element.children;
    for (unsigned i = 0; i < kids.length; ++i) {
      const auto* kid = static_cast<const GumboNode*>(kids.data[i]);
      if (kid->type != GUMBO_NODE_ELEMENT) continue;
      GumboTag t = kid->v.element.tag;
      if (t == GUMBO_TAG_TR) {
        std::string row;
        const GumboVector& cells = kid->v.element.children;
        for (unsigned j = 0; j < cells.length; ++j) {
          const auto* cell = static_cast<const GumboNode*>(cells.data[j]);
          if (cell->type != GUMBO_NODE_ELEMENT) continue;
          if (cell->v.element.tag != GUMBO_TAG_TD && cell->v.element.tag != GUMBO_TAG_TH) continue;
          std::string text;
          RawText(cell, &text, depth + 2);
          text = CollapseWhitespace(text);
          if (!row.empty()) row += " | ";
          row += text;
        }
        if (!CollapseWhitespace(row).empty() && row.find_first_not_of(" |") != std::string::npos) {
          rows->push_back(row);
        }
      } else if (t == GUMBO_TAG_THEAD || t == GUMBO_TAG_TBODY || t == GUMBO_TAG_TFOOT) {
        CollectRows(kid, rows, depth + 1);
      } else if (t == GUMBO_TAG_CAPTION) {
        std::string text;
        RawText(kid, &text, depth + 1);
        b_->Add(BlockKind::kParagraph, CollapseWhitespace(text));
      }
    }
  }

  void EmitTable(const GumboNode* table, int depth) {
    std::vector<std::string> rows;
    CollectRows(table, &rows, depth);
    std::string text;
    for (const std::string& r : rows) {
      if (!text.empty()) text += '\n';
      text += r;
    }
    b_->Add(BlockKind::kTable, text);
  }

  DocBuilder* b_;
  std::string buf_;
  std::vector<BlockKind> kinds_{BlockKind::kParagraph};
  std::string first_h1_;
};

// <meta charset="x"> or <meta http-equiv content="...; charset=x"> in the
// first few KB, read as ASCII (which every candidate charset extends).
std::string MetaCharset(std::string_view bytes) {
  std::string head = AsciiLower(bytes.substr(0, 4096));
  static const std::regex kRe(R"(<meta[^>]*charset\s*=\s*["']?\s*([a-z0-9_:.\-]+))");
  std::smatch m;
  if (std::regex_search(head, m, kRe)) return m[1].str();
  return "";
}

std::string HtmlToUtf8(std::string_view bytes, std::string_view hint) {
  // A BOM or valid UTF-8 beats any declaration (pages are often mislabeled,
  // and UTF-16 files carry a meta claiming utf-8, as they were converted).
  if (DetectWideEncoding(bytes) || bytes.starts_with("\xEF\xBB\xBF")) return ToUtf8(bytes);
  if (IsValidUtf8(bytes)) return std::string(bytes);
  std::string declared(hint);
  if (declared.empty()) declared = MetaCharset(bytes);
  // A meta saying utf-16 cannot be true for a file we could read it from as ASCII.
  if (AsciiLower(declared).starts_with("utf-16") || AsciiLower(declared).starts_with("utf-32")) {
    declared.clear();
  }
  return ToUtf8(bytes, declared);
}

}  // namespace

Result<ParsedDocument> ParseHtml(std::string_view bytes, std::string_view charset_hint) {
  std::string html = HtmlToUtf8(bytes, charset_hint);
  GumboOptions options = kGumboDefaultOptions;
  options.max_errors = 1000;  // error records cost memory and we never read them
  std::unique_ptr<GumboOutput, void (*)(GumboOutput*)> out(
      gumbo_parse_with_options(&options, html.data(), html.size()),
      [](GumboOutput* o) { gumbo_destroy_output(&kGumboDefaultOptions, o); });
  if (!out) return Status(ErrorKind::kCorrupt, "HTML parser returned nothing");

  DocBuilder b("html");
  const GumboNode* root = out->root;
  if (const char* lang = Attr(root, "lang")) b.doc().language = PrimaryLanguage(lang);
  int n = 0;
  if (const GumboNode* title = FindFirst(root, GUMBO_TAG_TITLE, &n)) {
    std::string t;
    RawText(title, &t);
    b.doc().title = CollapseWhitespace(t);
  }

  // Prefer the page's own notion of its content: <main>, else a lone <article>.
  int mains = 0, articles = 0;
  const GumboNode* content = FindFirst(root, GUMBO_TAG_MAIN, &mains);
  if (!content) {
    const GumboNode* article = FindFirst(root, GUMBO_TAG_ARTICLE, &articles);
    if (articles == 1) content = article;
  }
  if (!content) content = root;

  Extractor ex(&b);
  ex.Walk(content, 0);
  ex.Flush();
  if (b.doc().title.empty()) b.doc().title = ex.first_h1();
  return b.Finish();
}

}  // namespace savoir::parse
