// DOCX via libzip + pugixml: word/document.xml paragraphs, runs, tables and
// heading styles (resolved through word/styles.xml so localized style ids
// like "berschrift1" still map to "heading 1"). Every zip entry is read
// under a size and compression-ratio limit: a DOCX is attacker-controlled
// and a zip bomb must fail fast instead of filling memory.
#include <zip.h>

#include <pugixml.hpp>

#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <string>

#include "ingest/parse/doc_builder.h"
#include "ingest/parse/formats.h"

namespace savoir::parse {
namespace {

constexpr zip_uint64_t kMaxEntryBytes = 64ull << 20;
// Real DOCX XML deflates 5-20x; 200x on a multi-MB entry is a bomb.
constexpr zip_uint64_t kMaxRatio = 200;
constexpr zip_uint64_t kRatioCheckAbove = 1ull << 20;
constexpr int kMaxDepth = 256;

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
using ZipPtr = std::unique_ptr<zip_t, ZipCloser>;

Result<std::string> ReadEntry(zip_t* zip, const char* name) {
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat(zip, name, 0, &st) != 0) {
    return Status(ErrorKind::kNotFound, std::string("DOCX has no ") + name);
  }
  if ((st.valid & ZIP_STAT_SIZE) && st.size > kMaxEntryBytes) {
    return Status(ErrorKind::kTooLarge, std::string("DOCX entry ") + name + " expands to " +
                                            std::to_string(st.size >> 20) + " MB, over the " +
                                            std::to_string(kMaxEntryBytes >> 20) + " MB limit");
  }
  if ((st.valid & ZIP_STAT_SIZE) && (st.valid & ZIP_STAT_COMP_SIZE) && st.size > kRatioCheckAbove &&
      st.size / std::max<zip_uint64_t>(st.comp_size, 1) > kMaxRatio) {
    return Status(ErrorKind::kTooLarge, std::string("DOCX entry ") + name +
                                            " has an implausible compression ratio (zip bomb?)");
  }
  std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> f(zip_fopen(zip, name, 0), &zip_fclose);
  if (!f) {
    int ze = zip_error_code_zip(zip_get_error(zip));
    if (ze == ZIP_ER_NOPASSWD || ze == ZIP_ER_WRONGPASSWD || ze == ZIP_ER_ENCRNOTSUPP) {
      return Status(ErrorKind::kUnsupported, std::string("DOCX entry ") + name + " is encrypted");
    }
    return Status(ErrorKind::kCorrupt, std::string("DOCX entry ") + name +
                                           " cannot be opened: " + zip_strerror(zip));
  }
  // The header's size may lie; cap what we actually inflate, too.
  std::string data;
  char buf[65536];
  while (true) {
    zip_int64_t n = zip_fread(f.get(), buf, sizeof(buf));
    if (n < 0) {
      return Status(ErrorKind::kCorrupt, std::string("DOCX entry ") + name + " is damaged: " +
                                             zip_file_strerror(f.get()));
    }
    if (n == 0) break;
    if (data.size() + n > kMaxEntryBytes) {
      return Status(ErrorKind::kTooLarge, std::string("DOCX entry ") + name + " expands past the " +
                                              std::to_string(kMaxEntryBytes >> 20) + " MB limit");
    }
    data.append(buf, n);
  }
  return data;
}

std::string_view LocalName(const pugi::xml_node& n) {
  std::string_view name = n.name();
  size_t colon = name.find(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

pugi::xml_node Child(const pugi::xml_node& n, std::string_view local) {
  for (pugi::xml_node c : n.children()) {
    if (LocalName(c) == local) return c;
  }
  return {};
}

// w:val (or any *:val) attribute.
std::string Val(const pugi::xml_node& n) {
  for (pugi::xml_attribute a : n.attributes()) {
    std::string_view an = a.name();
    if (an == "val" || an.ends_with(":val")) return a.value();
  }
  return "";
}

struct StyleInfo {
  int heading = 0;  // 1..9
  bool list = false;
};

// styleId -> heading level / list, following basedOn chains.
class Styles {
 public:
  void Load(std::string_view xml) {
    pugi::xml_document d;
    if (!d.load_buffer(xml.data(), xml.size())) return;
    for (pugi::xml_node s : d.document_element().children()) {
      if (LocalName(s) != "style") continue;
      std::string id;
      for (pugi::xml_attribute a : s.attributes()) {
        if (std::string_view(a.name()).ends_with("styleId")) id = a.value();
      }
      Raw r;
      r.name = AsciiLower(Val(Child(s, "name")));
      r.based_on = Val(Child(s, "basedOn"));
      std::string lvl = Val(Child(Child(s, "pPr"), "outlineLvl"));
      if (!lvl.empty()) r.outline = std::atoi(lvl.c_str()) + 1;
      raw_[id] = r;
    }
  }

  StyleInfo Lookup(const std::string& id) const {
    StyleInfo info;
    std::string cur = id;
    for (int i = 0; i < 10 && !cur.empty(); ++i) {
      auto it = raw_.find(cur);
      std::string name = it == raw_.end() ? AsciiLower(cur) : it->second.name;
      if (name == "title") { info.heading = 1; return info; }
      if (name.starts_with("heading") && name.size() > 7) {
        int n = std::atoi(name.c_str() + 7);
        if (n >= 1 && n <= 9) { info.heading = n; return info; }
      }
      if (name.starts_with("list")) info.list = true;
      if (it == raw_.end()) break;
      if (it->second.outline >= 1 && it->second.outline <= 9) {
        info.heading = it->second.outline;
        return info;
      }
      cur = it->second.based_on;
    }
    return info;
  }

 private:
  struct Raw {
    std::string name, based_on;
    int outline = 0;
  };
  std::map<std::string, Raw> raw_;
};

// Text of a paragraph (or any subtree), runs in document order.
void RunText(const pugi::xml_node& n, std::string* out, int depth) {
  if (depth > kMaxDepth) return;
  for (pugi::xml_node c : n.children()) {
    std::string_view ln = LocalName(c);
    if (c.type() != pugi::node_element) continue;
    // Properties hold tab stops, not tabs; deleted/instruction text is not
    // shown; Fallback duplicates its AlternateContent Choice.
    if (ln == "pPr" || ln == "rPr" || ln == "delText" || ln == "instrText" || ln == "Fallback" ||
        ln == "del") {
      continue;
    }
    if (ln == "t") {
      out->append(c.text().get());
    } else if (ln == "tab") {
      *out += '\t';
    } else if (ln == "br" || ln == "cr") {
      *out += '\n';
    } else if (ln == "noBreakHyphen") {
      *out += '-';
    } else if (ln == "p") {
      if (!out->empty() && out->back() != '\n') *out += '\n';
      RunText(c, out, depth + 1);
    } else {
      RunText(c, out, depth + 1);
    }
  }
}

class BodyWalker {
 public:
  BodyWalker(DocBuilder* b, const Styles* styles) : b_(b), styles_(styles) {}

  void Walk(const pugi::xml_node& container, int depth) {
    if (depth > kMaxDepth) return;
    for (pugi::xml_node c : container.children()) {
      std::string_view ln = LocalName(c);
      if (ln == "p") {
        Paragraph(c);
      } else if (ln == "tbl") {
        std::string t;
        Table(c, &t, depth + 1);
        b_->Add(BlockKind::kTable, t);
      } else if (ln == "sdt") {
        Walk(Child(c, "sdtContent"), depth + 1);
      } else if (ln == "customXml" || ln == "sdtContent") {
        Walk(c, depth + 1);
      }
    }
  }

  const std::string& title_paragraph() const { return title_paragraph_; }

 private:
  void Paragraph(const pugi::xml_node& p) {
    std::string text;
    RunText(p, &text, 0);
    pugi::xml_node ppr = Child(p, "pPr");
    StyleInfo style = styles_->Lookup(Val(Child(ppr, "pStyle")));
    std::string lvl = Val(Child(ppr, "outlineLvl"));
    if (!lvl.empty() && std::atoi(lvl.c_str()) < 9) style.heading = std::atoi(lvl.c_str()) + 1;
    if (style.heading > 0) {
      if (title_paragraph_.empty()) title_paragraph_ = std::string(Trim(text));
      b_->Add(BlockKind::kHeading, CollapseWhitespace(text), std::min(style.heading, 6));
    } else if (Child(ppr, "numPr") || style.list) {
      b_->Add(BlockKind::kListItem, text);
    } else {
      b_->Add(BlockKind::kParagraph, text);
    }
  }

  // Rows on lines, cells joined by " | "; nested tables flatten into a cell.
  void Table(const pugi::xml_node& tbl, std::string* out, int depth) {
    if (depth > kMaxDepth) return;
    for (pugi::xml_node tr : tbl.children()) {
      if (LocalName(tr) != "tr") continue;
      std::string row;
      bool first = true;
      for (pugi::xml_node tc : tr.children()) {
        if (LocalName(tc) != "tc" && LocalName(tc) != "sdt") continue;
        std::string cell;
        RunText(tc, &cell, depth);
        if (!first) row += " | ";
        first = false;
        row += CollapseWhitespace(cell);
      }
      if (row.find_first_not_of(" |") == std::string::npos) continue;
      if (!out->empty()) *out += '\n';
      *out += row;
    }
  }

  DocBuilder* b_;
  const Styles* styles_;
  std::string title_paragraph_;
};

// "2023-04-05T06:07:08Z" -> unix seconds; 0 when unparsable.
int64_t ParseIso8601(const std::string& s) {
  std::tm tm{};
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec) < 3) {
    return 0;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm));
}

void ReadCoreProperties(zip_t* zip, ParsedDocument* doc) {
  Result<std::string> core = ReadEntry(zip, "docProps/core.xml");
  if (!core.ok()) return;  // optional part
  pugi::xml_document d;
  if (!d.load_buffer(core->data(), core->size())) return;
  for (pugi::xml_node c : d.document_element().children()) {
    std::string_view ln = LocalName(c);
    std::string v = std::string(Trim(c.text().get()));
    if (ln == "title") doc->title = v;
    else if (ln == "creator") doc->author = v;
    else if (ln == "created") doc->created_at = ParseIso8601(v);
    else if (ln == "language") doc->language = PrimaryLanguage(v);
  }
}

}  // namespace

Result<ParsedDocument> ParseDocx(std::string_view bytes) {
  zip_error_t err;
  zip_error_init(&err);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &err);
  if (!src) return Status(ErrorKind::kInternal, "cannot wrap DOCX bytes for libzip");
  ZipPtr zip(zip_open_from_source(src, ZIP_RDONLY, &err));
  if (!zip) {
    std::string msg = zip_error_strerror(&err);
    zip_source_free(src);  // ownership only passes to the archive on success
    zip_error_fini(&err);
    return Status(ErrorKind::kCorrupt, "DOCX is not a readable zip archive: " + msg);
  }
  zip_error_fini(&err);

  SAVOIR_ASSIGN_OR_RETURN(std::string xml, ReadEntry(zip.get(), "word/document.xml"));
  Styles styles;
  if (Result<std::string> s = ReadEntry(zip.get(), "word/styles.xml"); s.ok()) {
    styles.Load(*s);
  } else if (s.status().kind() == ErrorKind::kTooLarge) {
    return s.status();
  }

  pugi::xml_document d;
  pugi::xml_parse_result pr =
      d.load_buffer_inplace(xml.data(), xml.size(), pugi::parse_default | pugi::parse_ws_pcdata);
  if (!pr) {
    return Status(ErrorKind::kCorrupt, std::string("DOCX word/document.xml is not valid XML: ") +
                                           pr.description() + " at byte " + std::to_string(pr.offset));
  }
  DocBuilder b("docx");
  ReadCoreProperties(zip.get(), &b.doc());
  pugi::xml_node body = Child(d.document_element(), "body");
  BodyWalker walker(&b, &styles);
  walker.Walk(body, 0);
  if (b.doc().title.empty()) b.doc().title = walker.title_paragraph();
  return b.Finish();
}

}  // namespace savoir::parse
