// Replays every saved fuzzer finding (tests/fuzz_regressions/<harness>/*)
// through the harness's own entry point (fuzz/<harness>_fuzzer.cc, compiled
// into this binary), so `make test` keeps fixed crashes fixed with the
// normal build. A finding that crashes again aborts this test's process.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "../../fuzz/fuzz_target.h"

namespace savoir {
namespace {

namespace fs = std::filesystem;

TEST(FuzzRegressions, EveryHarnessIsRegistered) {
  for (const char* name : {"parse_html", "parse_markdown", "parse_text", "parse_docx", "parse_eml",
                           "parse_pdf", "query", "answer", "acl", "segment"}) {
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

}  // namespace
}  // namespace savoir
