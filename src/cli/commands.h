// CLI commands. Each returns the process exit code: 0 done, 1 the command
// failed (one line on stderr says why), 2 bad usage.
#pragma once

#include <string>
#include <vector>

#include "common/config.h"

namespace savoir {

struct CommandArgs {
  std::vector<std::string> paths;
  std::string query, user;
  std::vector<std::string> groups, languages;
  std::vector<int64_t> sources;
  size_t k = 10;
  bool json = false;
  bool answers = false;  // eval: also measure extractive answers
  bool embed_query = false;  // embed --query
  std::string beir, split = "test";
  std::vector<std::string> modes;  // eval --mode, search --mode
  // source add/sync/remove
  std::string source_kind, source_name, source_path, token_file, api_url, workspace;
  double rate_per_minute = 50;
  std::string site_url, web_auth;           // web
  std::vector<std::string> sitemaps, feeds, acl;  // web
  int max_pages = 1000;                     // web
  double interval_min = -1;                 // source add: own sync interval (-1: --sync-interval-min)
  double rescan_days = -1;                  // source add slack: full re-scan period (-1: the default, 7)
  std::string base_url, account;     // source add confluence (--user)
  std::vector<std::string> spaces;   // source add confluence --space
  std::string source_id;  // sync: one id; empty with --all
  bool all = false;
};

int CmdIndex(const Config& config, const CommandArgs& args);
int CmdSearch(const Config& config, const CommandArgs& args);
int CmdEval(const Config& config, const CommandArgs& args);
int CmdAnalyze(const Config& config, const CommandArgs& args);
int CmdReindex(const Config& config);
int CmdVerify(const Config& config);
int CmdStatus(const Config& config);
// Serves until SIGTERM/SIGINT (src/cli/serve.cc).
int CmdServe(const Config& config);
// `ask QUESTION` (src/cli/ask.cc): retrieval + the configured answerer.
int CmdAsk(const Config& config, const CommandArgs& args);
// `usage`: recent answer_usage rows (args.k of them).
int CmdUsage(const Config& config, const CommandArgs& args);
// `embed TEXT...`: the configured embedder's vectors as one JSON object.
int CmdEmbed(const Config& config, const CommandArgs& args);
// `rerank QUERY DOC...`: the configured reranker's scores as one JSON object.
int CmdRerank(const Config& config, const CommandArgs& args);
int CmdSourceAdd(const Config& config, const CommandArgs& args);
int CmdSourceList(const Config& config);
int CmdSourceSync(const Config& config, const CommandArgs& args);
int CmdSourceRemove(const Config& config, const CommandArgs& args);

// Prints "savoir: <message>" on stderr and returns 1.
int Fail(const std::string& message);

}  // namespace savoir
