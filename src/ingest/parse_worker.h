// Parses untrusted files in a child process, so that a parser crash, hang
// or memory blow-up costs one file instead of the server.
//
//   ParseWorker worker;                       // no process yet
//   Result<ParsedDocument> doc = worker.Parse("/data/report.pdf");
//
// The child is forked lazily on the first Parse(), reused for later files,
// and replaced after it crashes, times out or is killed. Parse() is
// serialized internally; use one worker per thread for parallelism.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <mutex>
#include <string>

#include "common/status.h"
#include "ingest/parsed_document.h"

namespace savoir {

struct ParseLimits {
  int64_t max_file_bytes = 64 << 20;       // larger files are refused unread
  int timeout_ms = 20000;                  // per file, wall clock
  int64_t memory_bytes = 2048LL << 20;     // child's address-space limit
};

class ParseWorker {
 public:
  explicit ParseWorker(ParseLimits limits = {});
  ~ParseWorker();  // kills and reaps the child
  ParseWorker(const ParseWorker&) = delete;
  ParseWorker& operator=(const ParseWorker&) = delete;

  // Errors, beyond those of ParseBytes: kNotFound / kIo (cannot read),
  // kTooLarge (file or memory limit), kTimeout, kCorrupt ("parser crashed
  // (SIGSEGV)"), kInternal (worker could not be started or misbehaved).
  Result<ParsedDocument> Parse(const std::string& path);

  // Child pid, or -1 when none is running. For tests and diagnostics.
  pid_t child_pid() const { return pid_; }

 private:
  Status Spawn();
  void Stop();  // SIGKILL + reap + close pipes; safe when no child
  Status ReapWithReason(const std::string& path);
  Result<ParsedDocument> ParseOnce(const std::string& path, bool* child_gone_before_request);

  ParseLimits limits_;
  bool test_hooks_ = false;
  pid_t pid_ = -1;
  int to_child_ = -1;    // parent writes requests
  int from_child_ = -1;  // parent reads responses
  std::mutex mu_;
};

}  // namespace savoir
