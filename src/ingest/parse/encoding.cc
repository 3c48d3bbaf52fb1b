#include "ingest/parse/encoding.h"

#include <iconv.h>
#include <uchardet.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <strings.h>

namespace savoir::parse {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Guesses BOM-less UTF-16 from the NUL bytes of mostly-ASCII text.
const char* SniffUtf16(std::string_view b) {
  if (b.size() < 8) return nullptr;
  size_t n = std::min<size_t>(b.size() & ~size_t{1}, 4096);
  size_t even_nul = 0, odd_nul = 0;
  for (size_t i = 0; i < n; i += 2) {
    if (b[i] == 0) ++even_nul;
    if (b[i + 1] == 0) ++odd_nul;
  }
  size_t pairs = n / 2;
  if (odd_nul > pairs * 7 / 10 && even_nul < pairs / 10) return "UTF-16LE";
  if (even_nul > pairs * 7 / 10 && odd_nul < pairs / 10) return "UTF-16BE";
  return nullptr;
}

std::string Detect(std::string_view bytes) {
  std::unique_ptr<std::remove_pointer_t<uchardet_t>, decltype(&uchardet_delete)> ud(
      uchardet_new(), &uchardet_delete);
  // A prefix is plenty to decide and bounds the work on huge files.
  std::string_view sample = bytes.substr(0, 256 * 1024);
  if (uchardet_handle_data(ud.get(), sample.data(), sample.size()) != 0) return "";
  uchardet_data_end(ud.get());
  const char* cs = uchardet_get_charset(ud.get());
  return cs ? cs : "";
}

}  // namespace

const char* DetectWideEncoding(std::string_view b) {
  if (StartsWith(b, std::string_view("\xFF\xFE\x00\x00", 4))) return "UTF-32LE";
  if (StartsWith(b, std::string_view("\x00\x00\xFE\xFF", 4))) return "UTF-32BE";
  if (StartsWith(b, "\xFF\xFE")) return "UTF-16LE";
  if (StartsWith(b, "\xFE\xFF")) return "UTF-16BE";
  return SniffUtf16(b);
}

bool ConvertToUtf8(std::string_view bytes, std::string_view charset, std::string* out) {
  std::string cs(charset);
  if (strcasecmp(cs.c_str(), "ISO-8859-1") == 0 || strcasecmp(cs.c_str(), "latin1") == 0 ||
      strcasecmp(cs.c_str(), "US-ASCII") == 0 || strcasecmp(cs.c_str(), "ascii") == 0) {
    cs = "WINDOWS-1252";
  }
  if (strcasecmp(cs.c_str(), "UTF-8") == 0 || strcasecmp(cs.c_str(), "utf8") == 0) {
    *out = SanitizeUtf8(bytes);
    return true;
  }
  iconv_t cd = iconv_open("UTF-8", cs.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) return false;
  out->clear();
  out->reserve(bytes.size() * 2);
  char buf[16384];
  char* in = const_cast<char*>(bytes.data());
  size_t in_left = bytes.size();
  // Unit size of the source encoding, so a bad code unit is skipped whole.
  size_t unit = 1;
  if (strncasecmp(cs.c_str(), "UTF-16", 6) == 0 || strncasecmp(cs.c_str(), "UCS-2", 5) == 0) unit = 2;
  if (strncasecmp(cs.c_str(), "UTF-32", 6) == 0 || strncasecmp(cs.c_str(), "UCS-4", 5) == 0) unit = 4;
  while (true) {
    char* o = buf;
    size_t o_left = sizeof(buf);
    size_t rc = iconv(cd, in_left ? &in : nullptr, in_left ? &in_left : nullptr, &o, &o_left);
    out->append(buf, o - buf);
    if (rc != static_cast<size_t>(-1)) {
      if (in_left == 0) {
        // Flush shift state.
        o = buf;
        o_left = sizeof(buf);
        iconv(cd, nullptr, nullptr, &o, &o_left);
        out->append(buf, o - buf);
        break;
      }
      continue;
    }
    if (errno == E2BIG) continue;
    // EILSEQ (bad sequence) or EINVAL (truncated at the end): replace, skip.
    out->append(kReplacement);
    size_t skip = std::min(unit, in_left);
    in += skip;
    in_left -= skip;
    iconv(cd, nullptr, nullptr, nullptr, nullptr);  // reset state
    if (in_left == 0) break;
  }
  iconv_close(cd);
  // iconv output is UTF-8 by construction; sanitize anyway (cheap, defensive).
  SanitizeUtf8InPlace(out);
  return true;
}

std::string ToUtf8(std::string_view bytes, std::string_view declared_charset) {
  std::string out;
  // BOMs first: they are unambiguous. UTF-32LE must be tested before UTF-16LE.
  struct Bom { std::string_view sig; const char* cs; };
  static const Bom kBoms[] = {
      {std::string_view("\xEF\xBB\xBF", 3), "UTF-8"},
      {std::string_view("\xFF\xFE\x00\x00", 4), "UTF-32LE"},
      {std::string_view("\x00\x00\xFE\xFF", 4), "UTF-32BE"},
      {std::string_view("\xFF\xFE", 2), "UTF-16LE"},
      {std::string_view("\xFE\xFF", 2), "UTF-16BE"},
  };
  for (const Bom& bom : kBoms) {
    if (StartsWith(bytes, bom.sig)) {
      ConvertToUtf8(bytes.substr(bom.sig.size()), bom.cs, &out);
      return out;
    }
  }
  if (!declared_charset.empty() && ConvertToUtf8(bytes, declared_charset, &out)) return out;
  // Before the UTF-8 check: ASCII-range UTF-16 is "valid UTF-8" full of NULs.
  if (const char* cs = SniffUtf16(bytes)) {
    ConvertToUtf8(bytes, cs, &out);
    return out;
  }
  if (IsValidUtf8(bytes)) return std::string(bytes);
  std::string detected = Detect(bytes);
  if (detected.empty() || !ConvertToUtf8(bytes, detected, &out)) {
    ConvertToUtf8(bytes, "WINDOWS-1252", &out);
  }
  return out;
}

}  // namespace savoir::parse
