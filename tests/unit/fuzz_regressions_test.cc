// Replays every saved fuzzer finding (tests/fuzz_regressions/<harness>/*)
// through the harness's own entry point (fuzz/<harness>_fuzzer.cc, compiled
// into this binary), so `make test` keeps fixed crashes fixed with the
// normal build. A finding that crashes again aborts this test's process.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "../../fuzz/fuzz_target.h"
#include "connectors/files/access_file.h"
#include "index/segment.h"
#include "test_util.h"

namespace savoir {
namespace {

namespace fs = std::filesystem;

TEST(FuzzRegressions, EveryHarnessIsRegistered) {
  for (const char* name : {"parse_html", "parse_markdown", "parse_text", "parse_docx", "parse_eml",
                           "parse_pdf", "query", "answer", "acl", "segment", "eventstream", "api_request", "slack",
                           "confluence", "web"}) {
    EXPECT_TRUE(fuzz::Targets().count(name)) << name;
  }
}

TEST(FuzzRegressions, SavedInputsReplayCleanly) {
  const fs::path root = fs::path(SAVOIR_SOURCE_DIR) / "tests" / "fuzz_regressions";
  if (!fs::exists(root)) GTEST_SKIP() << "no " << root;
  size_t replayed = 0;
  for (const auto& dir : fs::directory_iterator(root)) {
    if (!dir.is_directory()) continue;
    const std::string harness = dir.path().filename().string();
    auto it = fuzz::Targets().find(harness);
    ASSERT_NE(it, fuzz::Targets().end()) << "no fuzz target named " << harness;
    for (const auto& file : fs::directory_iterator(dir.path())) {
      if (!file.is_regular_file() || file.path().filename().string().starts_with(".")) continue;
      std::ifstream in(file.path(), std::ios::binary);
      std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      SCOPED_TRACE(file.path().string());
      EXPECT_EQ(it->second(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), 0);
      ++replayed;
    }
  }
  RecordProperty("replayed", static_cast<int>(replayed));
}

// The bugs behind the saved inputs, stated directly.

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// A segment whose posting-list offsets point outside the postings section
// (or are misaligned, or whose blocks do not match df) used to be mapped and
// read blindly; Open now rejects it.
TEST(FuzzRegressions, CorruptSegmentFailsToOpen) {
  testing::TempDir dir;
  const fs::path saved = fs::path(SAVOIR_SOURCE_DIR) / "tests/fuzz_regressions/segment/misaligned-block-meta";
  fs::copy_file(saved, dir / "seg");
  auto s = Segment::Open(dir / "seg");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().kind(), ErrorKind::kCorrupt);

  // A valid segment still opens; flipping bytes of its posting data or
  // truncating its term offsets is caught.
  SegmentWriter w;
  for (int i = 0; i < 300; ++i) w.Add(IndexedChunk{i + 1, i + 1, 0, {"a", "b" + std::to_string(i % 3)}, 0, {"acl:public"}});
  ASSERT_TRUE(w.Write(dir / "ok").ok());
  ASSERT_TRUE(Segment::Open(dir / "ok").ok());
  std::string bytes = ReadAll(dir / "ok");
  segfmt::Header h;
  std::memcpy(&h, bytes.data(), sizeof(h));
  std::string bad = bytes;
  segfmt::DictBlock block;  // the first term's posting offset now points past the section
  std::memcpy(&block, bad.data() + h.off_dict_index, sizeof(block));
  block.post_base = h.off_facets;
  std::memcpy(bad.data() + h.off_dict_index, &block, sizeof(block));
  std::ofstream(dir / "bad1", std::ios::binary) << bad;
  EXPECT_FALSE(Segment::Open(dir / "bad1").ok());
  bad = bytes;
  for (uint64_t i = h.off_postings; i < h.off_facets; ++i) bad[i] = '\xff';  // endless varints
  std::ofstream(dir / "bad2", std::ios::binary) << bad;
  EXPECT_FALSE(Segment::Open(dir / "bad2").ok());
}

// Entries with control characters ("user:bob\r%") were accepted as logins.
TEST(FuzzRegressions, AccessFileRejectsControlCharacters) {
  EXPECT_FALSE(ParseAccessFile("user:bob\r%\n", "x").ok());
  EXPECT_FALSE(ParseAccessFile(std::string("group:a\0b", 9), "x").ok());
  auto ok = ParseAccessFile("user:bob\r\ngroup:it-ops\r\n", "x");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), 2u);
}

}  // namespace
}  // namespace savoir
