#include "ingest/parse/parser.h"

#include <string>

#include "ingest/parse/doc_builder.h"
#include "ingest/parse/encoding.h"
#include "ingest/parse/formats.h"

namespace savoir {
namespace {

using parse::AsciiLower;

enum class Format { kUnknown, kText, kMarkdown, kHtml, kPdf, kDocx, kEml };

std::string Extension(std::string_view filename) {
  size_t slash = filename.find_last_of('/');
  if (slash != std::string_view::npos) filename.remove_prefix(slash + 1);
  size_t dot = filename.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return "";
  return AsciiLower(filename.substr(dot + 1));
}

Format FormatFromExtension(const std::string& ext) {
  if (ext == "md" || ext == "markdown") return Format::kMarkdown;
  if (ext == "txt" || ext == "text" || ext == "rst" || ext == "org" || ext == "log" ||
      ext == "csv" || ext == "tsv") {
    return Format::kText;
  }
  if (ext == "html" || ext == "htm" || ext == "xhtml") return Format::kHtml;
  if (ext == "pdf") return Format::kPdf;
  if (ext == "docx") return Format::kDocx;
  if (ext == "eml") return Format::kEml;
  return Format::kUnknown;
}

// A human name for formats people commonly drop into a folder, so the
// "unsupported" message tells them what we saw rather than just an extension.
std::string DescribeUnsupported(const std::string& ext, std::string_view bytes) {
  static const std::pair<const char*, const char*> kNames[] = {
      {"doc", "legacy Word document (.doc)"}, {"xls", "legacy Excel workbook (.xls)"},
      {"xlsx", "Excel workbook (.xlsx)"},     {"ppt", "legacy PowerPoint (.ppt)"},
      {"pptx", "PowerPoint (.pptx)"},         {"odt", "OpenDocument text (.odt)"},
      {"rtf", "Rich Text Format (.rtf)"},     {"epub", "EPUB e-book (.epub)"},
      {"msg", "Outlook message (.msg)"},      {"zip", "zip archive (.zip)"},
      {"json", "JSON (.json)"},               {"ndjson", "JSON lines (.ndjson)"},
      {"xml", "XML (.xml)"},                  {"yaml", "YAML (.yaml)"},
      {"wav", "audio (.wav)"},                {"mp3", "audio (.mp3)"},
      {"png", "image (.png)"},                {"jpg", "image (.jpg)"},
      {"jpeg", "image (.jpeg)"},              {"gif", "image (.gif)"},
      {"p7s", "PKCS#7 signature (.p7s)"},
  };
  for (const auto& [e, name] : kNames) {
    if (ext == e) return std::string("unsupported format: ") + name;
  }
  if (bytes.substr(0, 4) == std::string_view("PK\x03\x04", 4)) {
    return "unsupported format: zip container" + (ext.empty() ? "" : " (." + ext + ")");
  }
  if (ext.empty()) return "unsupported format: file has no extension";
  return "unsupported format: ." + ext;
}

Format Sniff(std::string_view bytes) {
  std::string_view head = bytes.substr(0, 1024);
  if (head.find("%PDF") != std::string_view::npos) return Format::kPdf;
  if (bytes.substr(0, 4) == std::string_view("PK\x03\x04", 4)) {
    // Entry names appear uncompressed in local headers and the directory.
    if (bytes.find("word/document.xml") != std::string_view::npos) return Format::kDocx;
    return Format::kUnknown;
  }
  std::string_view t = parse::Trim(head);
  if (t.substr(0, 3) == "\xEF\xBB\xBF") t = parse::Trim(t.substr(3));
  std::string lower = AsciiLower(t.substr(0, 64));
  if (lower.starts_with("<!doctype html") || lower.starts_with("<html")) return Format::kHtml;
  return Format::kUnknown;
}

}  // namespace

bool IsSupportedFile(std::string_view filename) {
  return FormatFromExtension(Extension(filename)) != Format::kUnknown;
}

Result<ParsedDocument> ParseBytes(std::string_view bytes, std::string_view filename) {
  const std::string ext = Extension(filename);
  const Format by_ext = FormatFromExtension(ext);
  const Format sniffed = Sniff(bytes);

  Format format = by_ext;
  // Content beats the name for binary signatures: a PDF renamed .txt is a PDF.
  if (sniffed == Format::kPdf || sniffed == Format::kDocx) format = sniffed;
  if (sniffed == Format::kHtml && (by_ext == Format::kUnknown || by_ext == Format::kText)) {
    format = Format::kHtml;
  }
  if (format == Format::kUnknown) {
    return Status(ErrorKind::kUnsupported, DescribeUnsupported(ext, bytes));
  }
  if (by_ext == Format::kPdf && format != Format::kPdf) {
    return Status(ErrorKind::kCorrupt, "not a PDF: the file does not start with %PDF");
  }
  if (by_ext == Format::kDocx && format != Format::kDocx) {
    return Status(ErrorKind::kCorrupt,
                  bytes.substr(0, 2) == "PK" ? "not a DOCX: the zip has no word/document.xml"
                                             : "not a DOCX: the file is not a zip archive");
  }

  Result<ParsedDocument> result = Status(ErrorKind::kInternal, "no parser ran");
  switch (format) {
    case Format::kText: result = parse::ParseText(bytes); break;
    case Format::kMarkdown: result = parse::ParseMarkdown(bytes); break;
    case Format::kHtml: result = parse::ParseHtml(bytes); break;
    case Format::kPdf: result = parse::ParsePdf(bytes); break;
    case Format::kDocx: result = parse::ParseDocx(bytes); break;
    case Format::kEml: result = parse::ParseEml(bytes); break;
    case Format::kUnknown: break;
  }
  if (result.ok()) {
    // Metadata comes from many sources; make sure it is clean UTF-8 on one line.
    ParsedDocument& doc = result.value();
    doc.title = parse::CollapseWhitespace(SanitizeUtf8(doc.title));
    doc.author = parse::CollapseWhitespace(SanitizeUtf8(doc.author));
  }
  return result;
}

}  // namespace savoir
