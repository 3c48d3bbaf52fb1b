#include "common/status.h"

#include <gtest/gtest.h>

namespace savoir {
namespace {

Result<int> Half(int x) {
  if (x % 2) return Status(ErrorKind::kInvalidArgument, "odd number " + std::to_string(x));
  return x / 2;
}

Status UseHalf(int x, int* out) {
  SAVOIR_ASSIGN_OR_RETURN(*out, Half(x));
  return Status::Ok();
}

TEST(Status, CarriesKindAndMessage) {
  auto r = Half(3);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(r.status().ToString(), "invalid_argument: odd number 3");
  int v = 0;
  EXPECT_TRUE(UseHalf(8, &v).ok());
  EXPECT_EQ(v, 4);
  EXPECT_FALSE(UseHalf(5, &v).ok());
}

}  // namespace
}  // namespace savoir
