// Helpers shared by unit tests.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

namespace savoir::testing {

// A fresh temporary folder, removed when the object goes away.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/savoir-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A folder for this test process's files, removed when the process exits
// (CTest runs each test in its own process).
inline const std::string& ScratchDir() {
  static TempDir dir;
  return dir.path();
}

// ../shared/data, or "" when absent (tests then GTEST_SKIP with a message).
inline std::string SharedData() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("SAVOIR_SHARED_DATA"); env && fs::exists(env)) return env;
  std::string p = std::string(SAVOIR_SOURCE_DIR) + "/../shared/data";
  return fs::exists(p) ? p : "";
}

}  // namespace savoir::testing
