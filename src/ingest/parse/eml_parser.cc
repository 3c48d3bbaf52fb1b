// RFC 822 / MIME e-mail via gmime 3: a header block (From/To/Cc/Date/
// Subject), then the first text/plain body part, or the first text/html
// part rendered with the HTML parser when there is no plain part.
// Attachments are not parsed; their names are listed in a final line so a
// search for "invoice.pdf" still finds the mail.
#include <gmime/gmime.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ingest/parse/doc_builder.h"
#include "ingest/parse/encoding.h"
#include "ingest/parse/formats.h"

namespace savoir::parse {
namespace {

constexpr int kMaxDepth = 32;

template <typename T>
struct GUnref {
  void operator()(T* p) const { if (p) g_object_unref(p); }
};
template <typename T>
using GPtr = std::unique_ptr<T, GUnref<T>>;

struct Bodies {
  std::string plain, plain_charset;
  std::string html, html_charset;
  bool have_plain = false, have_html = false;
  std::vector<std::string> attachments;
};

std::string DecodedContent(GMimePart* part) {
  GMimeDataWrapper* w = g_mime_part_get_content(part);
  if (!w) return "";
  GPtr<GMimeStream> mem(g_mime_stream_mem_new());
  g_mime_data_wrapper_write_to_stream(w, mem.get());
  GByteArray* arr = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem.get()));
  return arr ? std::string(reinterpret_cast<const char*>(arr->data), arr->len) : "";
}

void Collect(GMimeObject* obj, Bodies* out, int depth) {
  if (!obj || depth > kMaxDepth) return;
  if (GMIME_IS_MULTIPART(obj)) {
    auto* mp = GMIME_MULTIPART(obj);
    int n = g_mime_multipart_get_count(mp);
    for (int i = 0; i < n; ++i) Collect(g_mime_multipart_get_part(mp, i), out, depth + 1);
    return;
  }
  if (GMIME_IS_MESSAGE_PART(obj)) {
    out->attachments.push_back("attached message");
    return;
  }
  if (!GMIME_IS_PART(obj)) return;
  GMimePart* part = GMIME_PART(obj);
  GMimeContentType* ct = g_mime_object_get_content_type(obj);
  const char* filename = g_mime_part_get_filename(part);
  if (g_mime_part_is_attachment(part)) {
    out->attachments.push_back(filename ? filename : "unnamed attachment");
    return;
  }
  const char* cs = g_mime_object_get_content_type_parameter(obj, "charset");
  if (ct && g_mime_content_type_is_type(ct, "text", "plain") && !out->have_plain) {
    out->plain = DecodedContent(part);
    out->plain_charset = cs ? cs : "";
    out->have_plain = true;
  } else if (ct && g_mime_content_type_is_type(ct, "text", "html") && !out->have_html) {
    out->html = DecodedContent(part);
    out->html_charset = cs ? cs : "";
    out->have_html = true;
  } else if (filename) {
    out->attachments.push_back(filename);  // inline image etc.
  }
}

std::string Addresses(InternetAddressList* list) {
  if (!list || internet_address_list_length(list) == 0) return "";
  char* s = internet_address_list_to_string(list, nullptr, FALSE);
  std::string out = s ? s : "";
  g_free(s);
  return out;
}

// Plain-text bodies keep their line structure; paragraphs split on blank lines.
void AddPlainBody(DocBuilder* b, const std::string& text) {
  std::string para;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string_view line(text.data() + pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (Trim(line).empty()) {
      b->Add(BlockKind::kParagraph, para);
      para.clear();
    } else {
      if (!para.empty()) para += '\n';
      para.append(line);
    }
    pos = nl + 1;
  }
  b->Add(BlockKind::kParagraph, para);
}

}  // namespace

Result<ParsedDocument> ParseEml(std::string_view bytes) {
  static std::once_flag init;
  std::call_once(init, [] { g_mime_init(); });

  if (Trim(bytes).empty()) return Status(ErrorKind::kCorrupt, "e-mail file is empty");
  // A whole message saved as UTF-16 is not parseable MIME; re-encode first.
  std::string converted;
  if (const char* wide = DetectWideEncoding(bytes)) {
    size_t bom = (bytes.starts_with("\xFF\xFE") || bytes.starts_with("\xFE\xFF")) ? 2 : 0;
    if (bytes.starts_with(std::string_view("\x00\x00\xFE\xFF", 4)) ||
        bytes.starts_with(std::string_view("\xFF\xFE\x00\x00", 4))) {
      bom = 4;
    }
    ConvertToUtf8(bytes.substr(bom), wide, &converted);
    bytes = converted;
  }
  GPtr<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(bytes.data(), bytes.size()));
  GPtr<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  GPtr<GMimeMessage> msg(g_mime_parser_construct_message(parser.get(), nullptr));
  if (!msg) return Status(ErrorKind::kCorrupt, "not a readable e-mail message (no RFC 822 headers)");

  DocBuilder b("eml");
  ParsedDocument& doc = b.doc();
  if (const char* subject = g_mime_message_get_subject(msg.get())) doc.title = subject;
  doc.author = Addresses(g_mime_message_get_from(msg.get()));
  if (GDateTime* date = g_mime_message_get_date(msg.get())) doc.created_at = g_date_time_to_unix(date);

  std::string headers;
  auto header = [&](const char* name, const std::string& value) {
    if (value.empty()) return;
    if (!headers.empty()) headers += '\n';
    headers += std::string(name) + ": " + CollapseWhitespace(SanitizeUtf8(value));
  };
  header("From", doc.author);
  header("To", Addresses(g_mime_message_get_addresses(msg.get(), GMIME_ADDRESS_TYPE_TO)));
  header("Cc", Addresses(g_mime_message_get_addresses(msg.get(), GMIME_ADDRESS_TYPE_CC)));
  const char* raw_date = g_mime_object_get_header(GMIME_OBJECT(msg.get()), "Date");
  header("Date", raw_date ? raw_date : "");
  header("Subject", doc.title);
  b.Add(BlockKind::kParagraph, headers);

  Bodies bodies;
  Collect(g_mime_message_get_mime_part(msg.get()), &bodies, 0);
  if (bodies.have_plain && !Trim(bodies.plain).empty()) {
    AddPlainBody(&b, ToUtf8(bodies.plain, bodies.plain_charset));
  } else if (bodies.have_html) {
    Result<ParsedDocument> html = ParseHtml(bodies.html, bodies.html_charset);
    if (html.ok()) {
      for (const Block& blk : html->blocks) {
        b.Add(blk.kind, std::string_view(html->text).substr(blk.begin, blk.end - blk.begin), blk.level);
      }
    }
  }
  if (!bodies.attachments.empty()) {
    std::string line = "Attachments: ";
    for (size_t i = 0; i < bodies.attachments.size(); ++i) {
      if (i) line += ", ";
      line += bodies.attachments[i];
    }
    b.Add(BlockKind::kParagraph, line);
  }
  return b.Finish();
}

}  // namespace savoir::parse
