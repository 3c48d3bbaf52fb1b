// Markdown: a line-based block scanner (headings, lists, fences, tables,
// quotes, paragraphs) plus an inline pass that removes markup so the text
// reads as prose. Not a full CommonMark implementation: nested containers
// are flattened, which is what search needs.
#include <cctype>
#include <string>
#include <vector>

#include "ingest/parse/doc_builder.h"
#include "ingest/parse/encoding.h"
#include "ingest/parse/formats.h"

namespace savoir::parse {
namespace {

size_t Indent(std::string_view line) {
  size_t n = 0;
  while (n < line.size() && (line[n] == ' ' || line[n] == '\t')) ++n;
  return n;
}

bool IsBlank(std::string_view line) { return Trim(line).empty(); }

// ``` or ~~~ (3+), up to 3 spaces of indent. Returns the fence string.
std::string FenceOf(std::string_view line) {
  if (Indent(line) > 3) return "";
  line.remove_prefix(Indent(line));
  if (line.empty() || (line[0] != '`' && line[0] != '~')) return "";
  size_t n = 0;
  while (n < line.size() && line[n] == line[0]) ++n;
  return n >= 3 ? std::string(line.substr(0, n)) : "";
}

// ATX heading level (1..6) or 0.
int AtxLevel(std::string_view line, std::string_view* content) {
  if (Indent(line) > 3) return 0;
  line.remove_prefix(Indent(line));
  int level = 0;
  while (level < static_cast<int>(line.size()) && line[level] == '#') ++level;
  if (level == 0 || level > 6) return 0;
  if (level < static_cast<int>(line.size()) && line[level] != ' ' && line[level] != '\t') return 0;
  std::string_view rest = Trim(line.substr(level));
  // Optional closing sequence of #s.
  size_t end = rest.size();
  while (end > 0 && rest[end - 1] == '#') --end;
  if (end == 0 || rest[end - 1] == ' ') rest = Trim(rest.substr(0, end));
  *content = rest;
  return level;
}

// "===" -> 1, "---" -> 2 (setext underline), else 0.
int SetextLevel(std::string_view line) {
  std::string_view t = Trim(line);
  if (t.empty() || Indent(line) > 3) return 0;
  for (char c : t) {
    if (c != t[0]) return 0;
  }
  if (t[0] == '=') return 1;
  if (t[0] == '-') return 2;
  return 0;
}

bool IsThematicBreak(std::string_view line) {
  std::string_view t = Trim(line);
  if (t.size() < 3) return false;
  char m = t[0];
  if (m != '-' && m != '*' && m != '_') return false;
  int count = 0;
  for (char c : t) {
    if (c == m) ++count;
    else if (c != ' ') return false;
  }
  return count >= 3;
}

// "- x", "* x", "+ x", "1. x", "1) x": returns the content, or npos-marker false.
bool ListItem(std::string_view line, std::string_view* content) {
  std::string_view t = line.substr(Indent(line));
  size_t i = 0;
  if (!t.empty() && (t[0] == '-' || t[0] == '*' || t[0] == '+')) {
    i = 1;
  } else {
    while (i < t.size() && i < 9 && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
    if (i == 0 || i >= t.size() || (t[i] != '.' && t[i] != ')')) return false;
    ++i;
  }
  if (i < t.size() && t[i] != ' ' && t[i] != '\t') return false;
  *content = Trim(t.substr(i));
  // Task lists: "- [ ] x" / "- [x] x".
  if (content->size() >= 3 && (*content)[0] == '[' && (*content)[2] == ']') {
    *content = Trim(content->substr(3));
  }
  return true;
}

bool IsTableSeparator(std::string_view line) {
  std::string_view t = Trim(line);
  if (t.find('-') == std::string_view::npos || t.find('|') == std::string_view::npos) return false;
  for (char c : t) {
    if (c != '|' && c != '-' && c != ':' && c != ' ' && c != '\t') return false;
  }
  return true;
}

std::string StripInline(std::string_view s);

// Splits a pipe-table row into cells, honouring "\|" escapes.
std::string TableRow(std::string_view line) {
  std::string_view t = Trim(line);
  if (!t.empty() && t.front() == '|') t.remove_prefix(1);
  if (!t.empty() && t.back() == '|' && (t.size() < 2 || t[t.size() - 2] != '\\')) t.remove_suffix(1);
  std::vector<std::string> cells;
  std::string cell;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '\\' && i + 1 < t.size() && t[i + 1] == '|') {
      cell += '|';
      ++i;
    } else if (t[i] == '|') {
      cells.push_back(StripInline(Trim(cell)));
      cell.clear();
    } else {
      cell += t[i];
    }
  }
  cells.push_back(StripInline(Trim(cell)));
  std::string row;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i) row += " | ";
    row += cells[i];
  }
  return row;
}

// Removes emphasis, links, images, inline code and escapes. Underscores
// inside words (snake_case) are kept: they are not emphasis in CommonMark.
std::string StripInline(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || (c & 0x80); };
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size() && std::ispunct(static_cast<unsigned char>(s[i + 1]))) {
      out += s[++i];
    } else if (c == '`') {
      size_t run = 0;
      while (i + run < s.size() && s[i + run] == '`') ++run;
      std::string ticks(run, '`');
      size_t close = s.find(ticks, i + run);
      if (close == std::string_view::npos) {
        out += ticks;
      } else {
        out.append(Trim(s.substr(i + run, close - i - run)));
        i = close + run - 1;
        continue;
      }
      i += run - 1;
    } else if ((c == '!' && i + 1 < s.size() && s[i + 1] == '[') || c == '[') {
      // [text](url), [text][ref], ![alt](src): keep the text/alt.
      size_t open = c == '!' ? i + 1 : i;
      size_t close = s.find(']', open + 1);
      if (close == std::string_view::npos) {
        out += c;
        continue;
      }
      std::string_view label = s.substr(open + 1, close - open - 1);
      size_t next = close + 1;
      if (next < s.size() && s[next] == '(') {
        size_t end = s.find(')', next);
        if (end == std::string_view::npos) { out += c; continue; }
        next = end + 1;
      } else if (next < s.size() && s[next] == '[') {
        size_t end = s.find(']', next);
        if (end == std::string_view::npos) { out += c; continue; }
        next = end + 1;
      }
      out += StripInline(label);
      i = next - 1;
    } else if (c == '<' && i + 1 < s.size() &&
               (s.substr(i + 1, 4) == "http" || s.substr(i + 1, 7) == "mailto:")) {
      size_t end = s.find('>', i);
      if (end == std::string_view::npos) { out += c; continue; }
      out.append(s.substr(i + 1, end - i - 1));
      i = end;
    } else if (c == '*' || c == '~' ||
               (c == '_' && !(i > 0 && is_word(s[i - 1]) && i + 1 < s.size() && is_word(s[i + 1])))) {
      // Emphasis / strikethrough delimiter: drop it.
    } else {
      out += c;
    }
  }
  return out;
}

struct FrontMatter {
  std::string title;
  size_t end_line = 0;  // first line after the front matter
};

FrontMatter ReadFrontMatter(const std::vector<std::string_view>& lines) {
  FrontMatter fm;
  if (lines.empty() || Trim(lines[0]) != "---") return fm;
  for (size_t i = 1; i < lines.size() && i < 200; ++i) {
    std::string_view t = Trim(lines[i]);
    if (t == "---" || t == "...") {
      fm.end_line = i + 1;
      return fm;
    }
    if (lines[i].starts_with("title:")) {
      std::string_view v = Trim(lines[i].substr(6));
      if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) {
        v = v.substr(1, v.size() - 2);
      }
      fm.title = std::string(v);
    }
  }
  return FrontMatter{};  // unterminated: not front matter after all
}

}  // namespace

Result<ParsedDocument> ParseMarkdown(std::string_view bytes) {
  std::string text = ToUtf8(bytes);
  std::vector<std::string_view> lines;
  for (size_t pos = 0; pos <= text.size();) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line(text.data() + pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    pos = nl + 1;
  }

  DocBuilder b("markdown");
  FrontMatter fm = ReadFrontMatter(lines);
  b.doc().title = fm.title;

  std::string para;
  BlockKind para_kind = BlockKind::kParagraph;
  auto flush = [&] {
    b.Add(para_kind, StripInline(para));
    para.clear();
    para_kind = BlockKind::kParagraph;
  };
  std::string first_heading;
  auto heading = [&](int level, std::string_view content) {
    std::string h = StripInline(content);
    if (level == 1 && b.doc().title.empty()) b.doc().title = std::string(Trim(h));
    if (first_heading.empty()) first_heading = std::string(Trim(h));
    b.Add(BlockKind::kHeading, h, level);
  };

  for (size_t i = fm.end_line; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    std::string_view content;
    if (std::string fence = FenceOf(line); !fence.empty()) {
      flush();
      std::string code;
      for (++i; i < lines.size(); ++i) {
        std::string f = FenceOf(lines[i]);
        if (!f.empty() && f[0] == fence[0] && f.size() >= fence.size() && IsBlank(lines[i].substr(Indent(lines[i]) + f.size()))) break;
        code.append(lines[i]);
        code += '\n';
      }
      b.Add(BlockKind::kCode, code);
      continue;
    }
    if (IsBlank(line)) { flush(); continue; }
    if (int level = AtxLevel(line, &content)) { flush(); heading(level, content); continue; }
    // Setext underline only counts when it closes a plain paragraph.
    if (!para.empty() && para_kind == BlockKind::kParagraph && SetextLevel(line)) {
      std::string h = para;
      para.clear();
      heading(SetextLevel(line), h);
      continue;
    }
    if (IsThematicBreak(line)) { flush(); continue; }
    if (line.find('|') != std::string_view::npos && i + 1 < lines.size() &&
        IsTableSeparator(lines[i + 1])) {
      flush();
      std::string table = TableRow(line);
      for (i += 2; i < lines.size() && !IsBlank(lines[i]) && lines[i].find('|') != std::string_view::npos; ++i) {
        table += '\n';
        table += TableRow(lines[i]);
      }
      --i;
      b.Add(BlockKind::kTable, table);
      continue;
    }
    std::string_view t = Trim(line);
    if (t.starts_with('>')) {
      if (para_kind != BlockKind::kQuote) flush();
      para_kind = BlockKind::kQuote;
      if (!para.empty()) para += ' ';
      para.append(Trim(t.substr(1)));
      continue;
    }
    if (ListItem(line, &content)) {
      flush();
      para_kind = BlockKind::kListItem;
      para.append(content);
      continue;
    }
    if (!para.empty()) para += ' ';  // soft line break
    para.append(t);
  }
  flush();
  // No front matter and no H1: the first heading of any level names the page.
  if (b.doc().title.empty()) b.doc().title = first_heading;
  return b.Finish();
}

}  // namespace savoir::parse
