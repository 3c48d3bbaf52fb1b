#include "common/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace savoir {
namespace {

TEST(Config, DocsListTheCurrentOptionTable) {
  std::ifstream in(std::string(SAVOIR_SOURCE_DIR) + "/docs/options.md");
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_NE(ss.str().find(OptionTableMarkdown()), std::string::npos)
      << "docs/options.md is stale: regenerate it with `build/savoir options`";
}

TEST(Config, EnvironmentOverridesDefaultsAndBadValuesAreNamed) {
  setenv("SAVOIR_BM25_K1", "1.5", 1);
  Config c;
  ASSERT_TRUE(ApplyDefaultsAndEnvironment(c).ok());
  EXPECT_FLOAT_EQ(c.bm25_k1, 1.5f);
  setenv("SAVOIR_PORT", "99999", 1);
  Status st = ApplyDefaultsAndEnvironment(c);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("SAVOIR_PORT"), std::string::npos);
  unsetenv("SAVOIR_BM25_K1");
  unsetenv("SAVOIR_PORT");
}

}  // namespace
}  // namespace savoir
