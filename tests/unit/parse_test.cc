// Format parsers on small inline inputs (ParseBytes, in-process).
#include "ingest/parse/parser.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <zip.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace savoir {
namespace {

std::string BlockText(const ParsedDocument& d, const Block& b) {
  return d.text.substr(b.begin, b.end - b.begin);
}

// Builds a zip in memory with libzip (entries are deflated).
std::string MakeZip(const std::vector<std::pair<std::string, std::string>>& entries) {
  char path[] = "/tmp/savoir-zip-XXXXXX";
  int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  close(fd);
  int err = 0;
  zip_t* z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
  EXPECT_NE(z, nullptr);
  for (const auto& [name, data] : entries) {
    zip_source_t* src = zip_source_buffer(z, data.data(), data.size(), 0);
    zip_file_add(z, name.c_str(), src, ZIP_FL_OVERWRITE);
  }
  EXPECT_EQ(zip_close(z), 0);  // data must stay alive until here
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  unlink(path);
  return ss.str();
}

constexpr const char* kDocxBody = R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>
<w:p><w:pPr><w:pStyle w:val="berschrift1"/></w:pPr><w:r><w:t>Vacation policy</w:t></w:r></w:p>
<w:p><w:r><w:t xml:space="preserve">Employees get </w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>25 days</w:t></w:r><w:r><w:tab/><w:t>per year.</w:t></w:r></w:p>
<w:p><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr></w:pPr><w:r><w:t>Ask your manager</w:t></w:r></w:p>
<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Grade</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Days</w:t></w:r></w:p></w:tc></w:tr>
<w:tr><w:tc><w:p><w:r><w:t>A</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>30</w:t></w:r></w:p></w:tc></w:tr></w:tbl>
<w:sectPr/></w:body></w:document>)";

constexpr const char* kDocxStyles = R"(<?xml version="1.0" encoding="UTF-8"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:style w:type="paragraph" w:styleId="berschrift1"><w:name w:val="heading 1"/></w:style>
</w:styles>)";

constexpr const char* kDocxCore = R"(<?xml version="1.0" encoding="UTF-8"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"
 xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/">
<dc:title>HR Handbook</dc:title><dc:creator>Jane Doe</dc:creator>
<dcterms:created>2023-01-02T03:04:05Z</dcterms:created></cp:coreProperties>)";

TEST(ParseDispatch, SupportedExtensions) {
  for (const char* f : {"a.md", "b.MARKDOWN", "c.txt", "d.rst", "e.org", "f.log", "g.csv", "h.html",
                        "i.HTM", "j.xhtml", "k.pdf", "l.docx", "m.eml", "dir.x/n.text"}) {
    EXPECT_TRUE(IsSupportedFile(f)) << f;
  }
  for (const char* f : {"a.xlsx", "b.doc", "c", "d.png", "e.json", ".md.bak"}) {
    EXPECT_FALSE(IsSupportedFile(f)) << f;
  }
}

TEST(ParseDispatch, UnsupportedNamesTheFormat) {
  auto r = ParseBytes("PK\x03\x04 whatever", "sheet.xlsx");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kUnsupported);
  EXPECT_NE(r.status().message().find("Excel"), std::string::npos) << r.status().message();
  r = ParseBytes("abc", "file.weird");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(".weird"), std::string::npos);
}

TEST(ParseDispatch, SniffsContentOverExtension) {
  auto r = ParseBytes("<!DOCTYPE html><html><body><p>Hello sniffed</p></body></html>", "page.txt");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->format, "html");
  EXPECT_EQ(r->text, "Hello sniffed");
  auto bad = ParseBytes("not a pdf at all", "x.pdf");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().kind(), ErrorKind::kCorrupt);
}

TEST(ParseText, ParagraphsAndTitle) {
  auto r = ParseBytes("Quarterly report\r\n\r\nRevenue grew.\nCosts fell.\n\n\n  \nThe end.\n", "r.txt");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->title, "Quarterly report");
  ASSERT_EQ(r->blocks.size(), 3u);
  EXPECT_EQ(BlockText(*r, r->blocks[1]), "Revenue grew.\nCosts fell.");
  EXPECT_EQ(r->text, "Quarterly report\n\nRevenue grew.\nCosts fell.\n\nThe end.");
}

TEST(ParseText, Utf16WithBoms) {
  std::string le("\xFF\xFE", 2), be("\xFE\xFF", 2);
  for (char c : std::string("Caf\xE9 ok")) {  // Latin-1 code points
    le += c;
    le += '\0';
    be += '\0';
    be += c;
  }
  for (const std::string& bytes : {le, be}) {
    auto r = ParseBytes(bytes, "u.txt");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->text, "Caf\xC3\xA9 ok");
  }
}

TEST(ParseText, Cp1252AndGarbageNeverCrash) {
  auto r = ParseBytes("Der Preis betr\xE4gt 15,50 \x80 f\xFCr K\xE4se und Kuchen, sch\xF6n.", "p.txt");
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->text.find("betr\xC3\xA4gt"), std::string::npos) << r->text;
  EXPECT_NE(r->text.find("\xE2\x82\xAC"), std::string::npos) << r->text;  // €
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 7919) & 0xFF);
  auto g = ParseBytes(junk, "junk.txt");
  EXPECT_TRUE(g.ok());
}

TEST(ParseMarkdown, StructureAndInlineMarkup) {
  const char* md =
      "---\ntitle: \"Team Guide\"\nowner: ops\n---\n"
      "# Welcome\n\nSome **bold** and _em_ text with a [link](http://x.y) and `code` and snake_case.\n"
      "![diagram](d.png)\n\n"
      "Setext heading\n--------------\n\n"
      "- first item\n- second *item*\n\n"
      "```cpp\nint main() { return 0; }\n```\n\n"
      "| Name | Role |\n|------|------|\n| Ann | Lead |\n\n"
      "> quoted words\n";
  auto r = ParseBytes(md, "guide.md");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->title, "Team Guide");
  std::vector<std::pair<BlockKind, std::string>> got;
  for (const Block& b : r->blocks) got.emplace_back(b.kind, BlockText(*r, b));
  ASSERT_EQ(got.size(), 8u) << r->text;
  EXPECT_EQ(got[0], std::make_pair(BlockKind::kHeading, std::string("Welcome")));
  EXPECT_EQ(got[1].second,
            "Some bold and em text with a link and code and snake_case. diagram");
  EXPECT_EQ(got[2], std::make_pair(BlockKind::kHeading, std::string("Setext heading")));
  EXPECT_EQ(r->blocks[2].level, 2);
  EXPECT_EQ(got[3], std::make_pair(BlockKind::kListItem, std::string("first item")));
  EXPECT_EQ(got[4], std::make_pair(BlockKind::kListItem, std::string("second item")));
  EXPECT_EQ(got[5], std::make_pair(BlockKind::kCode, std::string("int main() { return 0; }")));
  EXPECT_EQ(got[6], std::make_pair(BlockKind::kTable, std::string("Name | Role\nAnn | Lead")));
  EXPECT_EQ(got[7], std::make_pair(BlockKind::kQuote, std::string("quoted words")));
}

TEST(ParseMarkdown, TitleFromFirstH1) {
  auto r = ParseBytes("intro\n\n# Real Title\n\ntext", "a.md");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->title, "Real Title");
}

TEST(ParseHtml, DropsBoilerplateKeepsContent) {
  const char* html =
      "<!doctype html><html lang='fr-FR'><head><title>Cong&eacute;s</title>"
      "<script>var secret = 1;</script><style>p{}</style></head><body>"
      "<nav><a href='/'>Home menu</a></nav><div class='cookie-banner'>Accept cookies</div>"
      "<header>Site header</header>"
      "<main><h1>Politique</h1><p>Les  cong&eacute;s\n pay&eacute;s.<br>Deux lignes.</p>"
      "<ul><li>Un</li><li>Deux</li></ul><pre>code  here</pre>"
      "<table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>2</td></tr></table>"
      "<blockquote>Citation</blockquote></main>"
      "<aside>Related links</aside><footer>Copyright</footer>"
      "<noscript>Enable JS</noscript></body></html>";
  auto r = ParseBytes(html, "page.html");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->title, "Cong\xC3\xA9s");
  EXPECT_EQ(r->language, "fr");
  EXPECT_EQ(r->text,
            "Politique\n\nLes cong\xC3\xA9s pay\xC3\xA9s.\nDeux lignes.\n\nUn\n\nDeux\n\ncode  here\n\n"
            "A | B\n1 | 2\n\nCitation");
  for (const char* gone : {"secret", "menu", "cookies", "header", "Related", "Copyright", "JS"}) {
    EXPECT_EQ(r->text.find(gone), std::string::npos) << gone;
  }
  ASSERT_EQ(r->blocks.size(), 7u);
  EXPECT_EQ(r->blocks[0].kind, BlockKind::kHeading);
  EXPECT_EQ(r->blocks[0].level, 1);
  EXPECT_EQ(r->blocks[2].kind, BlockKind::kListItem);
  EXPECT_EQ(r->blocks[4].kind, BlockKind::kCode);
  EXPECT_EQ(r->blocks[5].kind, BlockKind::kTable);
  EXPECT_EQ(r->blocks[6].kind, BlockKind::kQuote);
}

TEST(ParseHtml, MetaCharsetAndDeepNesting) {
  auto r = ParseBytes("<html><head><meta charset=\"iso-8859-1\"></head><body><p>Gr\xFC\xDF"
                      "e</p></body></html>", "x.htm");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->text, "Gr\xC3\xBC\xC3\x9F" "e");
  std::string deep;
  for (int i = 0; i < 20000; ++i) deep += "<div>";
  deep += "bottom";
  auto d = ParseBytes(deep, "deep.html");
  EXPECT_TRUE(d.ok());  // content beyond the depth cap is dropped, no stack overflow
}

TEST(ParseDocx, ParagraphsHeadingsListsTablesMetadata) {
  std::string docx = MakeZip({{"word/document.xml", kDocxBody},
                              {"word/styles.xml", kDocxStyles},
                              {"docProps/core.xml", kDocxCore}});
  auto r = ParseBytes(docx, "handbook.docx");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->format, "docx");
  EXPECT_EQ(r->title, "HR Handbook");
  EXPECT_EQ(r->author, "Jane Doe");
  EXPECT_EQ(r->created_at, 1672628645);
  EXPECT_EQ(r->text,
            "Vacation policy\n\nEmployees get 25 days\tper year.\n\nAsk your manager\n\n"
            "Grade | Days\nA | 30");
  ASSERT_EQ(r->blocks.size(), 4u);
  EXPECT_EQ(r->blocks[0].kind, BlockKind::kHeading);
  EXPECT_EQ(r->blocks[0].level, 1);
  EXPECT_EQ(r->blocks[2].kind, BlockKind::kListItem);
  EXPECT_EQ(r->blocks[3].kind, BlockKind::kTable);
}

TEST(ParseDocx, ZipBombIsRefusedQuickly) {
  std::string huge = "<w:document><w:body><w:p><w:r><w:t>";
  huge.append(size_t{80} << 20, 'a');
  huge += "</w:t></w:r></w:p></w:body></w:document>";
  std::string docx = MakeZip({{"word/document.xml", huge}});
  huge.clear();
  huge.shrink_to_fit();
  ASSERT_LT(docx.size(), size_t{1} << 20);  // it is a bomb: tiny on disk
  auto start = std::chrono::steady_clock::now();
  auto r = ParseBytes(docx, "bomb.docx");
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kTooLarge);
  EXPECT_NE(r.status().message().find("word/document.xml"), std::string::npos) << r.status().message();
  EXPECT_LT(ms.count(), 1000);
}

TEST(ParseDocx, BrokenZipIsCorrupt) {
  std::string docx = MakeZip({{"word/document.xml", kDocxBody}});
  docx.resize(docx.size() / 2);  // cut off the central directory
  docx += "word/document.xml";     // keep the sniffer convinced
  auto r = ParseBytes(docx, "cut.docx");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kCorrupt) << r.status().ToString();
}

TEST(ParseEml, HeadersBodyAndAttachments) {
  const char* eml =
      "From: =?UTF-8?Q?Ren=C3=A9e_Martin?= <renee@example.com>\r\n"
      "To: team@example.com\r\n"
      "Subject: Quarterly numbers\r\n"
      "Date: Tue, 03 Jan 2023 10:00:00 +0000\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n"
      "--XX\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
      "Revenue is up, co=FBts are down.\r\n\r\nSee attached.\r\n"
      "--XX\r\nContent-Type: application/pdf; name=\"q4.pdf\"\r\n"
      "Content-Disposition: attachment; filename=\"q4.pdf\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--XX--\r\n";
  auto r = ParseBytes(eml, "mail.eml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->title, "Quarterly numbers");
  EXPECT_EQ(r->author, "Ren\xC3\xA9" "e Martin <renee@example.com>");
  EXPECT_EQ(r->created_at, 1672740000);
  ASSERT_GE(r->blocks.size(), 4u);
  std::string headers = BlockText(*r, r->blocks[0]);
  EXPECT_NE(headers.find("To: team@example.com"), std::string::npos) << headers;
  EXPECT_NE(headers.find("Subject: Quarterly numbers"), std::string::npos);
  EXPECT_EQ(BlockText(*r, r->blocks[1]), "Revenue is up, co\xC3\xBBts are down.");
  EXPECT_EQ(BlockText(*r, r->blocks.back()), "Attachments: q4.pdf");
}

TEST(ParseEml, HtmlOnlyBodyUsesHtmlParser) {
  const char* eml =
      "From: a@b.c\nSubject: Hi\nContent-Type: text/html; charset=utf-8\n\n"
      "<html><body><script>x()</script><p>Hello <b>there</b></p></body></html>\n";
  auto r = ParseBytes(eml, "m.eml");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(BlockText(*r, r->blocks.back()), "Hello there");
}

TEST(ParsePdf, MinimalPdfAndGarbage) {
  // A hand-made one-page PDF; poppler recovers the missing xref offsets.
  const char* pdf =
      "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
      "2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
      "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 200]/Resources<</Font<</F1 4 0 R>>>>"
      "/Contents 5 0 R>>endobj\n"
      "4 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\n"
      "5 0 obj<</Length 44>>stream\nBT /F1 12 Tf 20 100 Td (Hello poppler) Tj ET\nendstream endobj\n"
      "trailer<</Root 1 0 R>>\n%%EOF\n";
  auto r = ParseBytes(pdf, "mini.pdf");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->format, "pdf");
  EXPECT_NE(r->text.find("Hello poppler"), std::string::npos) << r->text;
  auto g = ParseBytes("%PDF-1.7\n garbage garbage", "g.pdf");
  ASSERT_FALSE(g.ok());
  EXPECT_TRUE(g.status().kind() == ErrorKind::kCorrupt || g.status().kind() == ErrorKind::kUnsupported);
}

}  // namespace
}  // namespace savoir
