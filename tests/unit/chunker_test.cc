#include "ingest/chunker.h"

#include <gtest/gtest.h>

namespace savoir {
namespace {

ParsedDocument Doc(const std::vector<std::pair<BlockKind, std::string>>& blocks) {
  ParsedDocument d;
  for (const auto& [kind, text] : blocks) {
    if (!d.text.empty()) d.text += "\n\n";
    Block b;
    b.kind = kind;
    b.level = kind == BlockKind::kHeading ? static_cast<int>(text.find_first_not_of('#')) : 0;
    b.begin = static_cast<uint32_t>(d.text.size());
    d.text += text.substr(kind == BlockKind::kHeading ? text.find_first_not_of("# ") : 0);
    b.end = static_cast<uint32_t>(d.text.size());
    d.blocks.push_back(b);
  }
  return d;
}

std::string Words(int n, const std::string& w = "mot") {
  std::string s;
  for (int i = 0; i < n; ++i) s += (i ? " " : "") + w + std::to_string(i) + (i % 12 == 11 ? "." : "");
  return s;
}

TEST(Chunker, HeadingsStartChunksAndFormThePath) {
  auto d = Doc({{BlockKind::kHeading, "# Guide"}, {BlockKind::kParagraph, Words(60)},
                {BlockKind::kHeading, "## Congés"}, {BlockKind::kParagraph, Words(60)},
                {BlockKind::kHeading, "### Acquisition"}, {BlockKind::kParagraph, Words(60)},
                {BlockKind::kHeading, "## Télétravail"}, {BlockKind::kParagraph, Words(60)}});
  auto chunks = ChunkDocument(d);
  ASSERT_EQ(chunks.size(), 4u);
  EXPECT_EQ(chunks[0].heading_path, "Guide");
  EXPECT_EQ(chunks[1].heading_path, "Guide > Congés");
  EXPECT_EQ(chunks[2].heading_path, "Guide > Congés > Acquisition");
  EXPECT_EQ(chunks[3].heading_path, "Guide > Télétravail");
  EXPECT_EQ(d.text.substr(chunks[3].begin, std::string("Télétravail").size()), "Télétravail");
}

TEST(Chunker, ChunksStayNearTheBudgetAndCoverTheText) {
  std::vector<std::pair<BlockKind, std::string>> blocks;
  for (int i = 0; i < 20; ++i) blocks.push_back({BlockKind::kParagraph, Words(90)});
  blocks.push_back({BlockKind::kParagraph, Words(2000, "long")});  // one huge paragraph
  auto d = Doc(blocks);
  ChunkerOptions opt;
  opt.max_tokens = 512;
  auto chunks = ChunkDocument(d, opt);
  int total = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    EXPECT_LE(chunks[i].tokens, 512);
    EXPECT_LT(chunks[i].begin, chunks[i].end);
    if (i) {
      EXPECT_GE(chunks[i].begin, chunks[i - 1].end);
    }
    total += chunks[i].tokens;
  }
  EXPECT_EQ(total, CountWords(d.text));
}

TEST(Chunker, TextWithoutBlocksIsSplitOnBlankLines) {
  ParsedDocument d;
  d.text = "first paragraph here\n\nsecond one";
  auto chunks = ChunkDocument(d);
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].tokens, 5);
  EXPECT_TRUE(ChunkDocument(ParsedDocument{}).empty());
}

}  // namespace
}  // namespace savoir
