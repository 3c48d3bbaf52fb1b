// ParseWorker: crash/hang/limit isolation, and a sweep over the shared
// sample documents through the worker.
#include "ingest/parse_worker.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "ingest/parse/parser.h"
#include "ingest/parse_worker_wire.h"

namespace savoir {
namespace {

namespace fs = std::filesystem;

class ParseWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("SAVOIR_PARSE_TEST_HOOKS", "1", 1);
    dir_ = fs::temp_directory_path() / ("savoir-worker-" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    unsetenv("SAVOIR_PARSE_TEST_HOOKS");
    fs::remove_all(dir_);
  }
  std::string Write(const std::string& name, const std::string& content) {
    std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  fs::path dir_;
};

TEST_F(ParseWorkerTest, ParsesAndReusesTheChild) {
  ParseWorker w;
  auto a = w.Parse(Write("a.md", "# Hello\n\nworld"));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->title, "Hello");
  ASSERT_EQ(a->blocks.size(), 2u);
  EXPECT_EQ(a->blocks[0].kind, BlockKind::kHeading);
  pid_t pid = w.child_pid();
  auto b = w.Parse(Write("b.txt", "second file"));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->text, "second file");
  EXPECT_EQ(w.child_pid(), pid);
}

TEST_F(ParseWorkerTest, CrashCostsOneFile) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer turns the child's SIGSEGV into an ASan report and exit";
#endif
  ParseWorker w;
  auto crash = w.Parse(Write("x.savoir-test-crash", ""));
  ASSERT_FALSE(crash.ok());
  EXPECT_EQ(crash.status().kind(), ErrorKind::kCorrupt);
  EXPECT_NE(crash.status().message().find("SIGSEGV"), std::string::npos) << crash.status().message();
  EXPECT_EQ(w.child_pid(), -1);
  auto next = w.Parse(Write("ok.txt", "still fine"));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->text, "still fine");
}

TEST_F(ParseWorkerTest, HangTimesOut) {
  ParseWorker w(ParseLimits{.timeout_ms = 300});
  auto start = std::chrono::steady_clock::now();
  auto hang = w.Parse(Write("x.savoir-test-hang", ""));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  ASSERT_FALSE(hang.ok());
  EXPECT_EQ(hang.status().kind(), ErrorKind::kTimeout);
  EXPECT_NE(hang.status().message().find("longer than 0.3 s"), std::string::npos) << hang.status().message();
  EXPECT_LT(ms.count(), 2000);
  auto next = w.Parse(Write("ok.txt", "after the hang"));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->text, "after the hang");
}

TEST_F(ParseWorkerTest, MemoryLimitBecomesTooLarge) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "the address-space limit is off under Address/ThreadSanitizer (their shadow memory needs it)";
#endif
  ParseWorker w(ParseLimits{.memory_bytes = 768LL << 20});
  auto oom = w.Parse(Write("x.savoir-test-oom", ""));
  ASSERT_FALSE(oom.ok());
  EXPECT_EQ(oom.status().kind(), ErrorKind::kTooLarge) << oom.status().ToString();
  EXPECT_NE(oom.status().message().find("768 MB memory limit"), std::string::npos);
  EXPECT_TRUE(w.Parse(Write("ok.txt", "fine")).ok());
}

TEST_F(ParseWorkerTest, FileOverLimitIsRefused) {
  ParseWorker w(ParseLimits{.max_file_bytes = 1000});
  auto big = w.Parse(Write("big.txt", std::string(5000, 'x')));
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().kind(), ErrorKind::kTooLarge);
  EXPECT_EQ(w.child_pid(), -1);  // refused in the parent, no child needed
  auto missing = w.Parse((dir_ / "nope.txt").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().kind(), ErrorKind::kNotFound);
}

TEST_F(ParseWorkerTest, ChildKilledWhileIdleIsReplaced) {
  ParseWorker w;
  ASSERT_TRUE(w.Parse(Write("a.txt", "one")).ok());
  kill(w.child_pid(), SIGKILL);
  usleep(20000);
  auto r = w.Parse(Write("b.txt", "two"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->text, "two");
}

int OpenFds() {
  int n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

TEST_F(ParseWorkerTest, NoZombiesNoLeakedFds) {
  const int before = OpenFds();
  {
    ParseWorker w(ParseLimits{.timeout_ms = 200});
    EXPECT_FALSE(w.Parse(Write("x.savoir-test-crash", "")).ok());
    EXPECT_FALSE(w.Parse(Write("x.savoir-test-hang", "")).ok());
    EXPECT_TRUE(w.Parse(Write("ok.txt", "x")).ok());
  }
  EXPECT_EQ(OpenFds(), before);
  errno = 0;
  EXPECT_EQ(waitpid(-1, nullptr, WNOHANG), -1);  // no children left, reaped or not
  EXPECT_EQ(errno, ECHILD);
}

TEST(ParseWire, RoundTripAndRejectsGarbage) {
  ParsedDocument d;
  d.title = "T";
  d.text = "abc\n\ndef";
  d.blocks = {{BlockKind::kHeading, 2, 0, 3}, {BlockKind::kParagraph, 0, 5, 8}};
  d.format = "text";
  d.created_at = 42;
  auto back = wire::Decode(wire::Encode(d));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->text, d.text);
  EXPECT_EQ(back->blocks.size(), 2u);
  EXPECT_EQ(back->blocks[0].level, 2);
  EXPECT_EQ(back->created_at, 42);
  std::string enc = wire::Encode(d);
  EXPECT_FALSE(wire::Decode(enc.substr(0, enc.size() - 1)).ok());
  auto err = wire::Decode(wire::Encode(Status(ErrorKind::kTimeout, "slow")));
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.status().kind(), ErrorKind::kTimeout);
  EXPECT_EQ(err.status().message(), "slow");
}

std::string SharedDocs() {
  const char* env = getenv("SAVOIR_SHARED_DATA");
  fs::path base = env && *env ? fs::path(env) : fs::path(SAVOIR_SOURCE_DIR "/../shared/data");
  return (base / "docs").string();
}

TEST(ParseSharedDocs, EveryFileParsesOrFailsClearly) {
  const std::string root = SharedDocs();
  if (!fs::is_directory(root)) GTEST_SKIP() << "sample documents not found at " << root;
  ParseWorker worker(ParseLimits{.timeout_ms = 10000});
  std::map<std::string, std::string> text_of;  // relative path -> text
  int ok = 0, empty = 0, failed = 0;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file() || !IsSupportedFile(entry.path().string())) continue;
    std::string rel = fs::relative(entry.path(), root).string();
    auto r = worker.Parse(entry.path().string());
    if (!r.ok()) {
      ++failed;
      // A clear error: a kind the pipeline can act on, and a message.
      EXPECT_NE(r.status().kind(), ErrorKind::kTimeout) << rel;
      EXPECT_EQ(r.status().message().find("crashed"), std::string::npos) << rel;
      EXPECT_FALSE(r.status().message().empty()) << rel;
      printf("  %-55s %s\n", rel.c_str(), r.status().ToString().c_str());
      continue;
    }
    for (const Block& b : r->blocks) {
      ASSERT_LE(b.begin, b.end) << rel;
      ASSERT_LE(b.end, r->text.size()) << rel;
    }
    if (r->text.empty()) {
      ++empty;
      // Only files with nothing in them may come back empty.
      EXPECT_TRUE(rel.find("empty") != std::string::npos || rel.find("whitespace") != std::string::npos ||
                  entry.file_size() < 8)
          << rel << " produced no text";
    } else {
      ++ok;
    }
    text_of[rel] = r->text;
  }
  printf("shared docs: %d ok, %d empty, %d failed (clear errors)\n", ok, empty, failed);

  const std::pair<const char*, const char*> kExpected[] = {
      {"fake.docx", "Lorem ipsum"},
      {"fake-email.eml", "Roses are red"},
      {"fake-html.html", "My First Heading"},
      {"fake-text-utf-16-le.txt", "Hamburgers are delicious"},
      {"fake-html-cp1252.html", "sch\xC3\xB6ne Frau"},
      {"fake-html-cp1252.html", "15,50 \xE2\x82\xAC"},
      {"umlauts-non-utf8.md", "k\xC3\xB6nnen"},
      {"pdf/fake-memo.pdf", "May 5, 2023"},
      {"example-steelJIS-datasheet-utf-16.html", "SNB22-3"},
  };
  for (const auto& [file, word] : kExpected) {
    auto it = text_of.find(file);
    if (!fs::exists(fs::path(root) / file)) continue;
    ASSERT_NE(it, text_of.end()) << file << " did not parse";
    EXPECT_NE(it->second.find(word), std::string::npos) << file << " lacks \"" << word << "\"";
  }
}

}  // namespace
}  // namespace savoir
