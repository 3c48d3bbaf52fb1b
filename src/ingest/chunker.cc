#include "ingest/chunker.h"

#include <algorithm>

namespace savoir {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

// Splits [begin, end) into pieces of at most max_tokens words, preferring to
// cut after a sentence end (". ", "? ", "! ") and falling back to a space.
void SplitLongRange(const std::string& text, uint32_t begin, uint32_t end, int max_tokens,
                    std::vector<std::pair<uint32_t, uint32_t>>* out) {
  while (begin < end) {
    int words = 0;
    bool in_word = false;
    uint32_t i = begin, last_space = 0, last_sentence = 0;
    for (; i < end; ++i) {
      bool sp = IsSpace(text[i]);
      if (!sp && !in_word && ++words > max_tokens) break;
      if (sp && in_word) {
        last_space = i;
        char p = text[i - 1];
        if (p == '.' || p == '?' || p == '!' || p == ';') last_sentence = i;
      }
      in_word = !sp;
    }
    if (i >= end) {
      out->emplace_back(begin, end);
      return;
    }
    uint32_t cut = last_sentence > begin + (i - begin) / 2 ? last_sentence : last_space;
    if (cut <= begin) cut = i;
    out->emplace_back(begin, cut);
    begin = cut;
    while (begin < end && IsSpace(text[begin])) ++begin;
  }
}

}  // namespace

int32_t CountWords(std::string_view text) {
  int32_t n = 0;
  bool in_word = false;
  for (char c : text) {
    bool sp = IsSpace(c);
    if (!sp && !in_word) ++n;
    in_word = !sp;
  }
  return n;
}

std::vector<ChunkSpan> ChunkDocument(const ParsedDocument& doc, const ChunkerOptions& options) {
  const std::string& text = doc.text;
  std::vector<Block> blocks = doc.blocks;
  if (blocks.empty()) {
    // No structure from the parser: paragraphs are blank-line separated.
    size_t pos = 0;
    while (pos < text.size()) {
      size_t stop = text.find("\n\n", pos);
      if (stop == std::string::npos) stop = text.size();
      Block b;
      b.begin = static_cast<uint32_t>(pos);
      b.end = static_cast<uint32_t>(stop);
      blocks.push_back(b);
      pos = stop + 2;
    }
  }

  std::vector<ChunkSpan> chunks;
  std::vector<std::pair<int, std::string>> headings;  // (level, text)
  auto path = [&] {
    std::string p;
    for (const auto& [level, h] : headings) {
      if (!p.empty()) p += " > ";
      p += h;
    }
    return p;
  };

  ChunkSpan cur;
  bool open = false;
  auto flush = [&] {
    if (open && cur.tokens > 0) {
      // A short trailing section joins the chunk before it: tiny chunks
      // rank well on their title alone and make poor passages.
      if (cur.tokens < options.min_tokens && !chunks.empty() &&
          chunks.back().tokens + cur.tokens <= options.max_tokens) {
        chunks.back().end = cur.end;
        chunks.back().tokens += cur.tokens;
      } else {
        chunks.push_back(cur);
      }
    }
    open = false;
  };
  auto append = [&](const Block& b, int32_t words) {
    if (!open) {
      cur = ChunkSpan{b.begin, b.end, path(), words};
      open = true;
    } else {
      cur.end = b.end;
      cur.tokens += words;
    }
  };

  for (const Block& b : blocks) {
    if (b.begin >= b.end || b.end > text.size()) continue;
    int32_t words = CountWords(std::string_view(text).substr(b.begin, b.end - b.begin));
    if (words == 0) continue;
    if (b.kind == BlockKind::kHeading) {
      if (!open || cur.tokens >= options.min_tokens) flush();
      while (!headings.empty() && headings.back().first >= std::max(1, b.level)) headings.pop_back();
      std::string h = text.substr(b.begin, b.end - b.begin);
      std::replace(h.begin(), h.end(), '\n', ' ');
      headings.emplace_back(std::max(1, b.level), h);
      append(b, words);
      continue;
    }
    if (open && cur.tokens + words > options.max_tokens) flush();
    if (words > options.max_tokens) {
      std::vector<std::pair<uint32_t, uint32_t>> pieces;
      SplitLongRange(text, b.begin, b.end, options.max_tokens, &pieces);
      for (const auto& [pb, pe] : pieces) {
        chunks.push_back(ChunkSpan{pb, pe, path(),
                                   CountWords(std::string_view(text).substr(pb, pe - pb))});
      }
      continue;
    }
    append(b, words);
  }
  flush();
  return chunks;
}

}  // namespace savoir
