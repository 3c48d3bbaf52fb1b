#include "ingest/parse_worker.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "ingest/parse/parser.h"
#include "ingest/parse_worker_wire.h"

namespace savoir {
namespace {

using Clock = std::chrono::steady_clock;

// Responses bigger than this mean a confused child, not a document.
constexpr uint32_t kMaxFrameBytes = 1u << 30;

bool WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

bool WriteFrame(int fd, std::string_view payload) {
  uint32_t len = static_cast<uint32_t>(payload.size());
  char hdr[4];
  memcpy(hdr, &len, 4);
  return WriteAll(fd, hdr, 4) && WriteAll(fd, payload.data(), payload.size());
}

// Blocking read of exactly n bytes; false on EOF or error.
bool ReadAll(int fd, char* p, size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool ReadFrame(int fd, std::string* out) {
  uint32_t len;
  if (!ReadAll(fd, reinterpret_cast<char*>(&len), 4) || len > kMaxFrameBytes) return false;
  out->resize(len);
  return ReadAll(fd, out->data(), len);
}

std::string Seconds(int ms) {
  char buf[32];
  if (ms % 1000 == 0) snprintf(buf, sizeof(buf), "%d s", ms / 1000);
  else snprintf(buf, sizeof(buf), "%.1f s", ms / 1000.0);
  return buf;
}

std::string MemoryLimitMessage(int64_t bytes) {
  return "parser exceeded the " + std::to_string(bytes >> 20) + " MB memory limit";
}

std::string SignalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// ---- child side -----------------------------------------------------------

Result<ParsedDocument> ChildParse(const std::string& path, const ParseLimits& limits, bool hooks) {
  if (hooks) {
    if (EndsWith(path, ".savoir-test-crash")) raise(SIGSEGV);
    if (EndsWith(path, ".savoir-test-hang")) {
      for (;;) pause();
    }
    if (EndsWith(path, ".savoir-test-oom")) {
      std::vector<std::string> hog;
      for (;;) hog.emplace_back(size_t{64} << 20, 'x');  // throws bad_alloc under RLIMIT_AS
    }
  }
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Status(errno == ENOENT ? ErrorKind::kNotFound : ErrorKind::kIo,
                  "cannot open " + path + ": " + strerror(errno));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size > limits.max_file_bytes) {
    close(fd);
    return Status(ErrorKind::kTooLarge, path + " is over the " +
                                            std::to_string(limits.max_file_bytes >> 20) + " MB limit");
  }
  std::string bytes;
  bytes.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < bytes.size()) {
    ssize_t r = read(fd, bytes.data() + got, bytes.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      close(fd);
      return Status(ErrorKind::kIo, "cannot read " + path + ": " + strerror(e));
    }
    if (r == 0) break;  // file shrank; parse what is there
    got += static_cast<size_t>(r);
  }
  close(fd);
  bytes.resize(got);
  return ParseBytes(bytes, path);
}

[[noreturn]] void ChildMain(int req_fd, int resp_fd, const ParseLimits& limits, bool hooks) {
  // Start from a clean signal state: the parent's handlers (a server's
  // SIGTERM handler, say) must not run in here.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2}) signal(sig, SIG_DFL);
  signal(SIGPIPE, SIG_IGN);  // parent gone -> write fails -> we exit below

  // Only our two pipe ends survive; inherited sockets/pipes of the parent
  // (no exec happens, so O_CLOEXEC does not apply) would otherwise be held open.
  int lo = std::min(req_fd, resp_fd), hi = std::max(req_fd, resp_fd);
  if (lo > 3) close_range(3, lo - 1, 0);
  if (hi > lo + 1) close_range(lo + 1, hi - 1, 0);
  close_range(hi + 1, ~0u, 0);

  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  // ASan and TSan reserve terabytes of shadow address space; RLIMIT_AS would kill them.
  struct rlimit as = {static_cast<rlim_t>(limits.memory_bytes),
                      static_cast<rlim_t>(limits.memory_bytes)};
  setrlimit(RLIMIT_AS, &as);
#endif

  std::string path;
  while (ReadFrame(req_fd, &path)) {
    std::string payload;
    try {
      payload = wire::Encode(ChildParse(path, limits, hooks));
    } catch (const std::bad_alloc&) {
      payload = wire::Encode(Status(ErrorKind::kTooLarge, MemoryLimitMessage(limits.memory_bytes)));
    } catch (const std::exception& e) {
      payload = wire::Encode(Status(ErrorKind::kInternal, std::string("parser threw: ") + e.what()));
    } catch (...) {
      payload = wire::Encode(Status(ErrorKind::kInternal, "parser threw an unknown exception"));
    }
    if (!WriteFrame(resp_fd, payload)) break;
  }
  _exit(0);
}

}  // namespace

// ---- parent side ------------------------------------------------------------

ParseWorker::ParseWorker(ParseLimits limits) : limits_(limits) {}

ParseWorker::~ParseWorker() { Stop(); }

Status ParseWorker::Spawn() {
  const char* hooks = getenv("SAVOIR_PARSE_TEST_HOOKS");
  test_hooks_ = hooks && strcmp(hooks, "1") == 0;
  int req[2], resp[2];
  if (pipe2(req, O_CLOEXEC) != 0) return Status(ErrorKind::kInternal, std::string("pipe2: ") + strerror(errno));
  if (pipe2(resp, O_CLOEXEC) != 0) {
    int e = errno;
    close(req[0]);
    close(req[1]);
    return Status(ErrorKind::kInternal, std::string("pipe2: ") + strerror(e));
  }
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    for (int fd : {req[0], req[1], resp[0], resp[1]}) close(fd);
    return Status(ErrorKind::kInternal, std::string("cannot start parse worker: fork: ") + strerror(e));
  }
  if (pid == 0) {
    // The worker never outlives its parent, even one killed with SIGKILL
    // mid-file (it could otherwise keep parsing a huge file for a while).
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(0);
    close(req[1]);
    close(resp[0]);
    ChildMain(req[0], resp[1], limits_, test_hooks_);  // never returns
  }
  close(req[0]);
  close(resp[1]);
  pid_ = pid;
  to_child_ = req[1];
  from_child_ = resp[0];
  return Status::Ok();
}

void ParseWorker::Stop() {
  if (to_child_ >= 0) close(to_child_);
  if (from_child_ >= 0) close(from_child_);
  to_child_ = from_child_ = -1;
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    while (waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  pid_ = -1;
}

// The child closed its end: it died. Reap it and say how.
Status ParseWorker::ReapWithReason(const std::string& path) {
  int st = 0;
  pid_t r = 0;
  // It is exiting; give it a moment before forcing the issue.
  for (int i = 0; i < 100 && (r = waitpid(pid_, &st, WNOHANG)) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (r == 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &st, 0);
  }
  pid_ = -1;
  Stop();  // closes the pipes
  if (WIFSIGNALED(st)) {
    int sig = WTERMSIG(st);
    if (sig == SIGKILL) {
      return Status(ErrorKind::kInternal, "parser was killed (SIGKILL) on " + path +
                                              ", possibly by the out-of-memory killer");
    }
    return Status(ErrorKind::kCorrupt, "parser crashed (" + SignalName(sig) + ") on " + path);
  }
  return Status(ErrorKind::kInternal, "parser exited unexpectedly (status " +
                                          std::to_string(WIFEXITED(st) ? WEXITSTATUS(st) : -1) +
                                          ") on " + path);
}

Result<ParsedDocument> ParseWorker::Parse(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  // Cheap checks in the parent first: no need to bother the child.
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return Status(errno == ENOENT ? ErrorKind::kNotFound : ErrorKind::kIo,
                  "cannot stat " + path + ": " + strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return Status(ErrorKind::kInvalidArgument, path + " is not a regular file");
  if (st.st_size > limits_.max_file_bytes) {
    return Status(ErrorKind::kTooLarge, path + " is " + std::to_string(st.st_size >> 20) +
                                            " MB, over the " +
                                            std::to_string(limits_.max_file_bytes >> 20) + " MB limit");
  }
  bool child_was_gone = false;
  Result<ParsedDocument> r = ParseOnce(path, &child_was_gone);
  // A child that died while idle (killed from outside) is not this file's fault.
  if (child_was_gone) r = ParseOnce(path, &child_was_gone);
  return r;
}

Result<ParsedDocument> ParseWorker::ParseOnce(const std::string& path, bool* child_gone_before_request) {
  *child_gone_before_request = false;
  if (pid_ <= 0) SAVOIR_RETURN_IF_ERROR(Spawn());

  // Write the request with SIGPIPE blocked for this thread only, so a dead
  // child shows up as EPIPE instead of killing the whole process; then
  // discard the SIGPIPE we caused, if any, before unblocking.
  sigset_t pipe_set, old_set, pending;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE);
  const bool sent = WriteFrame(to_child_, path);
  const int write_errno = errno;
  if (!sent && write_errno == EPIPE && !was_pending) {
    struct timespec zero = {0, 0};
    sigtimedwait(&pipe_set, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  if (!sent) {
    Status why = ReapWithReason(path);
    *child_gone_before_request = true;
    return why;
  }

  // Read the response frame under the deadline.
  const auto deadline = Clock::now() + std::chrono::milliseconds(limits_.timeout_ms);
  std::string buf;
  size_t need = 4;
  bool have_header = false;
  while (buf.size() < need) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      Stop();  // SIGKILL + reap; the next Parse() starts a fresh child
      return Status(ErrorKind::kTimeout, "parsing " + path + " took longer than " +
                                             Seconds(limits_.timeout_ms));
    }
    struct pollfd pfd = {from_child_, POLLIN, 0};
    int pr = poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left, 1 << 30)));
    if (pr < 0 && errno == EINTR) continue;
    if (pr < 0) {
      Stop();
      return Status(ErrorKind::kInternal, std::string("poll: ") + strerror(errno));
    }
    if (pr == 0) continue;  // deadline re-checked above
    char chunk[65536];
    size_t want = std::min(sizeof(chunk), need - buf.size());
    ssize_t n = read(from_child_, chunk, want);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ReapWithReason(path);
    buf.append(chunk, static_cast<size_t>(n));
    if (!have_header && buf.size() == 4) {
      uint32_t len;
      memcpy(&len, buf.data(), 4);
      if (len > kMaxFrameBytes) {
        Stop();
        return Status(ErrorKind::kInternal, "parse worker sent an oversized response for " + path);
      }
      have_header = true;
      need = 4 + static_cast<size_t>(len);
      buf.reserve(need);
    }
  }
  Result<ParsedDocument> decoded = wire::Decode(std::string_view(buf).substr(4));
  if (!decoded.ok() && decoded.status().kind() == ErrorKind::kInternal &&
      decoded.status().message().starts_with("malformed")) {
    Stop();  // out of sync with the child; start over next time
  }
  return decoded;
}

}  // namespace savoir
