// Helpers shared by the AWS credential tests (aws_test.cc, aws_profiles_test.cc).
#pragma once

#include <httplib.h>

#include <chrono>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <thread>

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

// A local HTTP server on a free port, run on its own thread: add handlers
// to `server`, then Start().
class LocalServer {
 public:
  httplib::Server server;
  int port = 0;
  void Start() {
    port = server.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
  ~LocalServer() {
    server.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::thread thread_;
};

// ISO 8601 UTC, as AWS writes expirations.
inline std::string IsoTime(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace savoir::awstest
