#include "server/server.h"

#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "server/http_errors.h"
#include "server/scheduler.h"

#ifndef SAVOIR_WEB_DIR
#define SAVOIR_WEB_DIR "web"
#endif

namespace savoir {
namespace {

// Debian's httplib listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG is
// compiled into the shared library): a burst of new connections overflows it
// and the kernel drops SYNs, which clients retry only after a second. Linux
// lets listen() be called again on a listening socket to enlarge the queue.
class ListeningServer : public httplib::Server {
 public:
  void EnlargeBacklog(int backlog) { ::listen(svr_sock_, backlog); }
};

std::string MessageForHttpStatus(int status, const httplib::Request& req, size_t max_body) {
  switch (status) {
    case 400: return "malformed HTTP request";
    case 404: return "no route for " + req.method + " " + req.path;
    case 405: return "method not allowed";
    case 408: return "the request was not received in time";
    case 413:
      // httplib caps form-encoded bodies at 8 KB whatever the limit (curl -d sends that type).
      if (req.get_header_value("Content-Type") == "application/x-www-form-urlencoded" &&
          std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10) <= max_body)
        return "form-encoded request bodies are limited to 8 KB; send Content-Type: application/json";
      return "the request body is larger than the limit of " + std::to_string(max_body / 1024) + " KB";
    case 414: return "the request URI is too long";
    case 416: return "range not satisfiable";
    default: return "HTTP error " + std::to_string(status);
  }
}

}  // namespace

ServerOptions ServerOptions::FromConfig(const Config& c) {
  ServerOptions o;
  o.host = c.host;
  o.port = c.port;
  // httplib gives each open connection a thread for as long as it is kept
  // alive, and threads mostly wait on sockets (idle keep-alive, paced answer
  // streams), not on the CPU. Too few threads queue whole connections: with
  // 8 threads, 16 wrk connections saw a p99 of 340 ms, with 32 threads 40 ms.
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  // With 100 wrk connections, 32 threads gave a p99 of 408 ms, 128 threads
  // 105 ms (bench/http_search.sh); idle threads cost address space, not RAM.
  o.threads = c.threads > 0 ? c.threads : static_cast<int>(std::max(128u, 32 * cores));
  o.compute_slots = c.compute_slots > 0 ? c.compute_slots : static_cast<int>(cores);
  o.web_dir = c.web_dir.empty() ? SAVOIR_WEB_DIR : c.web_dir;
  o.max_body_bytes = static_cast<size_t>(c.max_request_kb) * 1024;
  o.read_timeout_s = c.read_timeout_s;
  o.write_timeout_s = c.write_timeout_s;
  o.keep_alive_s = c.keep_alive_s;
  o.refresh_s = c.refresh_s;
  o.answer_pace_ms = c.answer_pace_ms;
  return o;
}

void ConfigureServer(httplib::Server& server, ServerContext& ctx) {
  const ServerOptions& o = ctx.options;
  const size_t threads = static_cast<size_t>(std::max(1, o.threads));
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  if (!ctx.gate) {
    unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    ctx.gate = std::make_shared<WorkGate>(o.compute_slots > 0 ? o.compute_slots : static_cast<int>(cores));
  }
  server.set_payload_max_length(o.max_body_bytes);
  server.set_read_timeout(o.read_timeout_s, 0);
  server.set_write_timeout(o.write_timeout_s, 0);
  server.set_keep_alive_timeout(o.keep_alive_s);
  // A kept-alive connection holds its thread; handing the thread back every
  // 10 requests keeps many connections fair (wrk, 100 connections, 32
  // threads: p99 1.4 s and timeouts with 100 requests, 0.4 s with 10).
  server.set_keep_alive_max_count(o.keep_alive_s > 0 ? 10 : 1);
  server.set_tcp_nodelay(true);  // small SSE events must not wait for Nagle
  server.set_default_headers({{"X-Content-Type-Options", "nosniff"}});
  // A client announcing a body over the limit is refused before sending it.
  const size_t max_body = o.max_body_bytes;
  server.set_expect_100_continue_handler([max_body](const httplib::Request& req, httplib::Response& res) -> int {
    const std::string length = req.get_header_value("Content-Length");
    if (length.empty() || std::strtoull(length.c_str(), nullptr, 10) <= max_body) return 100;
    res.status = 413;  // httplib writes `res` as the final response
    return 413;
  });
  // Errors httplib raises itself (no route, body too large, bad request line)
  // get the same JSON body as the routes' errors; bodies routes wrote stay.
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [max_body](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty() || res.content_provider_) return httplib::Server::HandlerResponse::Unhandled;
    ErrorStyle style = req.path.rfind("/v1/", 0) == 0 ? ErrorStyle::kOpenAi : ErrorStyle::kSavoir;
    Status st(ErrorKindForHttpStatus(res.status), MessageForHttpStatus(res.status, req, max_body));
    WriteJson(res, ErrorBody(st, style), res.status);
    return httplib::Server::HandlerResponse::Handled;
  }));
  server.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
    std::fprintf(stderr, "savoir: %s %s: exception outside a route\n", req.method.c_str(), req.path.c_str());
    WriteJson(res, ErrorBody(Status(ErrorKind::kInternal, "internal error"), ErrorStyle::kSavoir), 500);
  });
  AddJsonApiRoutes(server, ctx);
  AddChatRoutes(server, ctx);
  AddOpenAiRoutes(server, ctx);
  AddStaticRoutes(server, ctx);
}

int RunServer(ServerContext& ctx) {
  // SIGTERM and SIGINT are blocked in every thread (the pool inherits this
  // mask) and taken synchronously by one waiter thread, which may then call
  // Server::stop(); nothing runs in an asynchronous signal handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);  // a client that left must not kill the process
  // Every open connection is a descriptor: use all the system allows.
  struct rlimit files {};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  ListeningServer server;
  ConfigureServer(server, ctx);
  const ServerOptions& o = ctx.options;
  int port = o.port == 0 ? server.bind_to_any_port(o.host) : (server.bind_to_port(o.host, o.port) ? o.port : -1);
  if (port <= 0) {
    std::fprintf(stderr, "savoir: cannot listen on %s:%d: %s\n", o.host.c_str(), o.port, std::strerror(errno));
    return 1;
  }
  server.EnlargeBacklog(SOMAXCONN);
  std::string host = o.host.find(':') != std::string::npos ? "[" + o.host + "]" : o.host;
  std::printf("savoir: listening on http://%s:%d\n", host.c_str(), port);
  std::fflush(stdout);

  std::atomic<bool> finished{false};
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (finished) return;  // woken by ourselves below
    std::fprintf(stderr, "savoir: %s received; finishing requests in flight\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    // stop() is a no-op until listen_after_bind has started running.
    while (!server.is_running() && !finished) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    server.stop();
  });
  // Documents indexed by another process (`savoir index`, connector syncs)
  // reach this server through the store's change log.
  std::mutex refresh_mu;
  std::condition_variable refresh_cv;
  std::thread refresher([&] {
    std::unique_lock<std::mutex> lock(refresh_mu);
    // Vectors (with --embedder) follow the keyword index here, unlocked so
    // that SIGTERM stops a long embedding run at its next commit.
    auto vectors = [&] {
      if (!ctx.engine->vectors()) return;
      lock.unlock();
      Status st = ctx.engine->CatchUpVectors(nullptr, &finished);
      if (!st.ok()) std::fprintf(stderr, "savoir: vector index refresh failed: %s\n", st.ToString().c_str());
      lock.lock();
    };
    if (o.refresh_s > 0) vectors();
    while (o.refresh_s > 0 && !finished) {
      refresh_cv.wait_for(lock, std::chrono::seconds(o.refresh_s), [&] { return finished.load(); });
      if (finished) break;
      Status st = ctx.engine->CatchUp();
      if (!st.ok()) std::fprintf(stderr, "savoir: index refresh failed: %s\n", st.ToString().c_str());
      vectors();
    }
  });
  if (ctx.scheduler) ctx.scheduler->Start();
  bool ok = server.listen_after_bind();  // returns once the pool has drained
  if (ctx.scheduler) ctx.scheduler->Stop();  // lets a sync in progress finish
  {
    std::lock_guard<std::mutex> lock(refresh_mu);
    finished = true;
  }
  refresh_cv.notify_all();
  refresher.join();
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  std::fprintf(stderr, "savoir: server stopped\n");
  return ok ? 0 : 1;
}

}  // namespace savoir
