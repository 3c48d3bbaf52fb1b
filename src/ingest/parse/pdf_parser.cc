// PDF via poppler-cpp: one block per page, in reading order
// (non_raw_non_physical_layout, like pdftotext's default, which keeps
// columns apart instead of interleaving them line by line).
#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-page.h>

#include <climits>
#include <memory>
#include <mutex>
#include <string>

#include "ingest/parse/doc_builder.h"
#include "ingest/parse/formats.h"

namespace savoir::parse {
namespace {

std::string Utf8(const poppler::ustring& s) {
  poppler::byte_array a = s.to_utf8();
  return std::string(a.begin(), a.end());
}

// Poppler reports recoverable syntax errors on stderr; broken-but-readable
// files are common, and the noise would drown real logs.
void SilencePoppler() {
  static std::once_flag once;
  std::call_once(once, [] {
    poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr);
  });
}

// Drops trailing spaces on each line, form feeds, and runs of >1 blank line.
std::string TidyPageText(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  int newlines = 0;
  for (char c : s) {
    if (c == '\f' || c == '\r' || c == '\0') continue;
    if (c == '\n') {
      while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
      if (++newlines > 2) continue;
    } else {
      newlines = 0;
    }
    out += c;
  }
  return out;
}

}  // namespace

Result<ParsedDocument> ParsePdf(std::string_view bytes) {
  SilencePoppler();
  if (bytes.size() > static_cast<size_t>(INT_MAX)) {
    return Status(ErrorKind::kTooLarge, "PDF is larger than 2 GB");
  }
  std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
  if (!doc) {
    return Status(ErrorKind::kCorrupt, "PDF could not be opened: damaged or not a PDF");
  }
  if (doc->is_locked()) {
    return Status(ErrorKind::kUnsupported, "PDF is encrypted with a password");
  }

  DocBuilder b("pdf");
  b.doc().title = Utf8(doc->info_key("Title"));
  b.doc().author = Utf8(doc->info_key("Author"));
  time_t created = doc->info_date_t("CreationDate");
  if (created > 0) b.doc().created_at = static_cast<int64_t>(created);

  const int pages = doc->pages();
  for (int i = 0; i < pages; ++i) {
    std::unique_ptr<poppler::page> page(doc->create_page(i));
    if (!page) continue;  // a broken page costs that page only
    std::string text =
        TidyPageText(Utf8(page->text(poppler::rectf(), poppler::page::non_raw_non_physical_layout)));
    b.Add(BlockKind::kParagraph, text);
  }
  if (b.doc().text.empty()) {
    return Status(ErrorKind::kUnsupported,
                  pages == 0 ? "PDF has no pages"
                             : "PDF has no extractable text (scanned images? OCR is not supported)");
  }
  return b.Finish();
}

}  // namespace savoir::parse
