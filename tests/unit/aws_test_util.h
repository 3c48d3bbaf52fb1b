// Helpers shared by the AWS credential tests (aws_test.cc, aws_profiles_test.cc).
#pragma once

#include <chrono>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include "local_server.h"
#include "net/aws_credentials.h"

namespace savoir::awstest {

// An environment made of the given variables only.
inline EnvLookup MapEnv(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

using testing::LocalServer;

// ISO 8601 UTC, as AWS writes expirations.
inline std::string IsoTime(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace savoir::awstest
