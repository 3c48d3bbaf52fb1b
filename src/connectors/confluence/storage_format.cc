#include "connectors/confluence/storage_format.h"

#include <cstring>
#include <pugixml.hpp>
#include <string>
#include <unordered_map>

#include "ingest/parse/doc_builder.h"

namespace savoir {
namespace {

using parse::CollapseWhitespace;

// HTML named entities common in Confluence bodies, as code points. XML's
// own five are left to pugixml; unknown names keep their text ("&foo;").
const std::unordered_map<std::string, unsigned>& Entities() {
  static const auto* m = new std::unordered_map<std::string, unsigned>{
      {"nbsp", 0xA0},   {"rsquo", 0x2019}, {"lsquo", 0x2018}, {"ldquo", 0x201C}, {"rdquo", 0x201D},
      {"ndash", 0x2013}, {"mdash", 0x2014}, {"hellip", 0x2026}, {"bull", 0x2022}, {"middot", 0xB7},
      {"copy", 0xA9},   {"reg", 0xAE},     {"trade", 0x2122}, {"euro", 0x20AC},  {"pound", 0xA3},
      {"deg", 0xB0},    {"times", 0xD7},   {"rarr", 0x2192},  {"larr", 0x2190},  {"laquo", 0xAB},
      {"raquo", 0xBB},  {"eacute", 0xE9},  {"egrave", 0xE8},  {"ecirc", 0xEA},   {"agrave", 0xE0},
      {"acirc", 0xE2},  {"ccedil", 0xE7},  {"ocirc", 0xF4},   {"ucirc", 0xFB},   {"ugrave", 0xF9},
      {"icirc", 0xEE},  {"iuml", 0xEF},    {"euml", 0xEB},    {"auml", 0xE4},    {"ouml", 0xF6},
      {"uuml", 0xFC},   {"szlig", 0xDF},   {"Eacute", 0xC9},  {"Auml", 0xC4},    {"Ouml", 0xD6},
      {"Uuml", 0xDC},   {"oelig", 0x153},  {"shy", 0xAD},     {"zwj", 0x200D},   {"zwnj", 0x200C}};
  return *m;
}

// Named HTML entities -> numeric references, stray '&' -> "&amp;", so the
// body is XML pugixml accepts. CDATA sections are copied untouched.
std::string RepairEntities(std::string_view in) {
  std::string out;
  out.reserve(in.size() + 64);
  for (size_t i = 0; i < in.size();) {
    if (in.compare(i, 9, "<![CDATA[") == 0) {
      size_t end = in.find("]]>", i);
      end = end == std::string_view::npos ? in.size() : end + 3;
      out.append(in.substr(i, end - i));
      i = end;
      continue;
    }
    if (in[i] != '&') {
      out += in[i++];
      continue;
    }
    size_t semi = in.find(';', i);
    std::string_view name = semi == std::string_view::npos || semi - i > 12 ? "" : in.substr(i + 1, semi - i - 1);
    bool word = !name.empty();
    for (char c : name) word = word && (isalnum(static_cast<unsigned char>(c)) || c == '#');
    if (!word) {
      out += "&amp;";
    } else if (name[0] == '#' || name == "amp" || name == "lt" || name == "gt" || name == "quot" || name == "apos") {
      out.append(in.substr(i, semi - i + 1));
    } else if (auto it = Entities().find(std::string(name)); it != Entities().end()) {
      out += "&#" + std::to_string(it->second) + ";";
    } else {
      out += "&amp;";
      out.append(name);
      out += ';';
    }
    i = word ? semi + 1 : i + 1;
  }
  return out;
}

bool Is(const pugi::xml_node& n, const char* name) { return std::strcmp(n.name(), name) == 0; }

bool IsCodeMacro(const pugi::xml_node& n) {
  if (!Is(n, "ac:structured-macro") && !Is(n, "ac:macro")) return false;
  std::string_view m = n.attribute("ac:name").value();
  return m == "code" || m == "noformat";
}

int HeadingLevel(const pugi::xml_node& n) {
  const char* s = n.name();
  return s[0] == 'h' && s[1] >= '1' && s[1] <= '6' && s[2] == 0 ? s[1] - '0' : 0;
}

// Text of an inline subtree: links show their body or target title, line
// breaks become spaces, macro parameters and images are dropped.
void InlineText(const pugi::xml_node& n, std::string* out) {
  if (n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata) {
    *out += n.value();
    return;
  }
  if (n.type() != pugi::node_element) return;
  if (Is(n, "br")) {
    *out += ' ';
    return;
  }
  if (Is(n, "ac:parameter") || Is(n, "ac:image") || Is(n, "ri:attachment") || Is(n, "ac:placeholder")) return;
  if (Is(n, "ac:structured-macro") || Is(n, "ac:macro")) {
    if (IsCodeMacro(n)) InlineText(n.child("ac:plain-text-body"), out);
    else InlineText(n.child("ac:rich-text-body"), out);
    return;
  }
  if (Is(n, "ac:emoticon")) {
    *out += n.attribute("ac:emoji-fallback").value();
    return;
  }
  if (Is(n, "ac:link")) {
    size_t before = out->size();
    for (auto c : n.children())
      if (Is(c, "ac:link-body") || Is(c, "ac:plain-text-link-body")) InlineText(c, out);
    if (out->size() == before) {
      if (auto page = n.child("ri:page")) *out += page.attribute("ri:content-title").value();
      else if (auto blog = n.child("ri:blog-post")) *out += blog.attribute("ri:content-title").value();
    }
    return;
  }
  bool spaced = Is(n, "td") || Is(n, "th") || Is(n, "p") || Is(n, "li") || Is(n, "div");
  for (auto c : n.children()) InlineText(c, out);
  if (spaced) *out += ' ';
}

// All text under `n`, whitespace kept (pre blocks).
void RawText(const pugi::xml_node& n, std::string* out) {
  if (n.type() == pugi::node_pcdata || n.type() == pugi::node_cdata) *out += n.value();
  else if (Is(n, "br")) *out += '\n';
  for (auto c : n.children()) RawText(c, out);
}

class Converter {
 public:
  ParsedDocument Convert(const pugi::xml_node& root) {
    Blocks(root, BlockKind::kParagraph);
    return b_.Finish();
  }

 private:
  static bool IsBlock(const pugi::xml_node& n) {
    static const char* const kBlocks[] = {
        "p", "div", "section", "ul", "ol", "li", "table", "pre", "blockquote", "hr",
        "ac:structured-macro", "ac:macro", "ac:layout", "ac:layout-section", "ac:layout-cell",
        "ac:rich-text-body", "ac:task-list", "ac:task", "ac:task-body", "ac:image", "ac:parameter",
        "ac:plain-text-body", "ac:placeholder", "ac:adf-extension"};
    if (n.type() != pugi::node_element) return false;
    if (HeadingLevel(n)) return true;
    for (const char* name : kBlocks)
      if (Is(n, name)) return true;
    return false;
  }

  void Flush(BlockKind kind) {
    b_.Add(kind, CollapseWhitespace(pending_));
    pending_.clear();
  }

  // Walks `n`'s children: inline content accumulates into one block of
  // `kind`; block elements end it and are converted on their own.
  void Blocks(const pugi::xml_node& n, BlockKind kind) {
    for (auto c : n.children()) {
      if (!IsBlock(c)) {
        InlineText(c, &pending_);
        continue;
      }
      Flush(kind);
      Block(c);
    }
    Flush(kind);
  }

  void Block(const pugi::xml_node& n) {
    if (int level = HeadingLevel(n)) {
      std::string t;
      InlineText(n, &t);
      b_.Add(BlockKind::kHeading, CollapseWhitespace(t), level);
    } else if (Is(n, "li") || Is(n, "ac:task")) {
      Blocks(Is(n, "ac:task") ? n.child("ac:task-body") : n, BlockKind::kListItem);
    } else if (Is(n, "blockquote")) {
      Blocks(n, BlockKind::kQuote);
    } else if (Is(n, "pre")) {
      std::string t;
      RawText(n, &t);
      b_.Add(BlockKind::kCode, t);
    } else if (Is(n, "table")) {
      Table(n);
    } else if (IsCodeMacro(n)) {
      b_.Add(BlockKind::kCode, n.child("ac:plain-text-body").text().get());
    } else if (Is(n, "ac:structured-macro") || Is(n, "ac:macro")) {
      // Panels, expand, excerpt, section...: their body; macros without
      // one (toc, children, jira, attachments) leave nothing.
      if (auto body = n.child("ac:rich-text-body")) Blocks(body, BlockKind::kParagraph);
    } else if (Is(n, "ac:image") || Is(n, "ac:parameter") || Is(n, "ac:plain-text-body") || Is(n, "hr") ||
               Is(n, "ac:placeholder") || Is(n, "ac:adf-extension")) {
      // chrome: nothing
    } else {
      Blocks(n, BlockKind::kParagraph);  // p, div, ul, ol, layouts, task lists
    }
  }

  void Table(const pugi::xml_node& table) {
    std::string rows;
    auto row = [&](const pugi::xml_node& tr) {
      std::string line;
      for (auto cell : tr.children()) {
        if (!Is(cell, "td") && !Is(cell, "th")) continue;
        std::string t;
        for (auto c : cell.children()) InlineText(c, &t);
        if (!line.empty()) line += " | ";
        line += CollapseWhitespace(t);
      }
      if (line.find_first_not_of(" |") == std::string::npos) return;
      if (!rows.empty()) rows += '\n';
      rows += line;
    };
    for (auto c : table.children()) {
      if (Is(c, "tr")) row(c);
      else if (Is(c, "tbody") || Is(c, "thead") || Is(c, "tfoot"))
        for (auto tr : c.children("tr")) row(tr);
    }
    b_.Add(BlockKind::kTable, rows);
  }

  parse::DocBuilder b_{"confluence"};
  std::string pending_;
};

}  // namespace

Result<ParsedDocument> ConfluenceStorageToDocument(std::string_view storage) {
  std::string xml = "<body>" + RepairEntities(storage) + "</body>";
  pugi::xml_document doc;
  auto r = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default | pugi::parse_ws_pcdata,
                           pugi::encoding_utf8);
  if (!r) return Status(ErrorKind::kCorrupt, std::string("storage format is not well-formed: ") + r.description());
  return Converter().Convert(doc.child("body"));
}

}  // namespace savoir
