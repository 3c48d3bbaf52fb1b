// A local HTTP server on a free port, run on its own thread, for tests that
// talk to a fake remote (AWS endpoints, web sites): add handlers to
// `server`, then Start(); it stops when destroyed.
#pragma once

#include <httplib.h>

#include <chrono>
#include <string>
#include <thread>

namespace savoir::testing {

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
  ~LocalServer() { Stop(); }
  void Stop() {
    server.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::thread thread_;
};

}  // namespace savoir::testing
