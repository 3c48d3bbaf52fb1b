#include "answer/chat_markers.h"

#include <array>

namespace savoir {
namespace {

constexpr std::string_view kZeroWidthSpace = "\xE2\x80\x8B";

bool MarkerChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
         c == '.';
}

// Length of a marker "<BAR name BAR>" at `at` (BAR: "|" or the fullwidth
// "｜"), or 0.
size_t BarMarkerAt(std::string_view s, size_t at, std::string_view bar) {
  if (s.compare(at, 1, "<") != 0 || s.compare(at + 1, bar.size(), bar) != 0) return 0;
  size_t i = at + 1 + bar.size();
  const size_t name_start = i;
  // DeepSeek's names hold "▁" (U+2581) too: any byte but '<', '>' and bars.
  while (i < s.size() && i - name_start <= 40) {
    if (s.compare(i, bar.size(), bar) == 0) {
      if (i > name_start && s.compare(i + bar.size(), 1, ">") == 0) return i + bar.size() + 1 - at;
      return 0;
    }
    const char c = s[i];
    if (bar == "|" ? !MarkerChar(c) : (c == '<' || c == '>')) return 0;
    ++i;
  }
  return 0;
}

constexpr std::array<std::string_view, 10> kFixed = {"[INST]", "[/INST]", "<<SYS>>", "<</SYS>>", "<s>", "</s>",
                                                    "<start_of_turn>", "<end_of_turn>", "<bos>", "<eos>"};

}  // namespace

std::string DefangChatMarkers(std::string_view text) {
  if (text.find_first_of("<[") == std::string_view::npos) return std::string(text);
  std::string out;
  out.reserve(text.size() + 16);
  for (size_t i = 0; i < text.size();) {
    size_t len = 0;
    if (text[i] == '<') {
      len = BarMarkerAt(text, i, "|");
      if (!len) len = BarMarkerAt(text, i, "\xEF\xBD\x9C");  // ｜
    }
    if (!len && (text[i] == '<' || text[i] == '[')) {
      for (std::string_view m : kFixed)
        if (text.compare(i, m.size(), m) == 0) {
          len = m.size();
          break;
        }
    }
    if (len) {
      out += text[i];
      out += kZeroWidthSpace;
      out.append(text.substr(i + 1, len - 1));
      i += len;
      continue;
    }
    out += text[i++];
  }
  return out;
}

}  // namespace savoir
