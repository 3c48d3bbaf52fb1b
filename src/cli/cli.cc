// The command line: global options come from the option table
// (common/config.h); each command is a small function below.
#include "cli/cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/commands.h"
#include "common/config.h"

namespace savoir {

int RunCli(int argc, char** argv) {
  CLI::App app{"Savoir: answers from your company's own documents, with their sources.", "savoir"};
  app.require_subcommand(1);
  // Global options may also follow the command (`savoir --data D serve --port 0`).
  app.fallthrough();
  app.set_help_all_flag("--help-all", "Show help for every command");
  app.footer("Every option can also be set by its environment variable; see `savoir options`.");

  Config config;
  std::map<std::string, std::string> given;  // flag -> value from the command line
  for (const auto& o : OptionTable()) {
    std::string desc = std::string(o.help) + " [env " + o.env + ", default " + o.default_value + "]";
    app.add_option_function<std::string>(
           o.flag, [&given, flag = std::string(o.flag)](const std::string& v) { given[flag] = v; }, desc)
        ->type_name("VALUE");
  }

  CommandArgs args;
  auto* index = app.add_subcommand("index", "Index folders or files (adds, updates, removes)");
  index->add_option("paths", args.paths, "Folders or files to index");
  index->add_option("--beir", args.beir, "Also store a BEIR corpus.jsonl from this folder (benchmarks)");

  auto* search = app.add_subcommand("search", "Search as a user, best documents first");
  search->add_option("query", args.query, "The question or keywords")->required();
  search->add_option("--as", args.user, "Run the query as this user");
  search->add_option("--group", args.groups, "A group of that user (repeatable)");
  search->add_option("-k", args.k, "Number of documents")->check(CLI::Range(1, 1000));
  search->add_option("--source", args.sources, "Only this source id (repeatable)");
  search->add_option("--lang", args.languages, "Only documents in this language (repeatable)");
  search->add_flag("--json", args.json, "One JSON object per result");
  search->add_option("--mode", args.modes, "auto (hybrid when vectors exist), bm25, dense or hybrid")
      ->check(CLI::IsMember({"auto", "bm25", "dense", "hybrid"}));

  auto* ask = app.add_subcommand("ask", "Answer a question from the documents a user may see (with --chat: the language model)");
  ask->add_option("query", args.query, "The question")->required();
  ask->add_option("--as", args.user, "Ask as this user");
  ask->add_option("--group", args.groups, "A group of that user (repeatable)");
  ask->add_option("-k", args.k, "Number of passages retrieved")->check(CLI::Range(1, 100));
  ask->add_option("--source", args.sources, "Only this source id (repeatable)");
  ask->add_option("--lang", args.languages, "Only documents in this language (repeatable)");
  ask->add_flag("--json", args.json, "One JSON object: answer, mode, model, notice, citations, sources, usage");

  auto* usage = app.add_subcommand("usage", "Recent answers' usage: model, tokens, first token and total latency, errors");
  usage->add_option("-n", args.k, "Number of rows (newest first; default 10)")->check(CLI::Range(1, 100000));
  usage->add_flag("--json", args.json, "One JSON object per row");

  auto* embed = app.add_subcommand("embed", "Embed texts with the configured --embedder (JSON: model_id, dimensions, vectors)");
  embed->add_option("texts", args.paths, "Texts to embed")->required();
  embed->add_flag("--query", args.embed_query, "Embed as search queries (models with query prefixes)");

  auto* rerank = app.add_subcommand(
      "rerank", "Score documents against a query with the configured --reranker (JSON: reranker, scores in order)");
  rerank->add_option("texts", args.paths, "The query, then the documents")->required()->expected(2, -1);

  auto* eval = app.add_subcommand("eval", "Evaluate retrieval on a BEIR dataset");
  eval->add_option("--beir", args.beir, "BEIR folder (corpus.jsonl, queries.jsonl, qrels/)")->required();
  eval->add_option("--split", args.split, "qrels split");
  eval->add_flag("--json", args.json, "End with one JSON object of the figures");
  eval->add_option("--mode", args.modes,
                   "Retrieval mode(s) to measure: bm25, dense, hybrid (repeatable; default bm25, and all three "
                   "with --embedder)")
      ->check(CLI::IsMember({"bm25", "dense", "hybrid"}));
  eval->add_flag("--answers", args.answers,
                 "Also measure extractive answers against the gold answers (PIAF metadata.answers)");

  auto* analyze = app.add_subcommand("analyze", "Show how a text is analyzed into index terms");
  analyze->add_option("text", args.query, "Text to analyze")->required();
  analyze->add_option("--lang", args.languages, "Language (default: detected)");

  auto* source = app.add_subcommand("source", "Connector sources (Slack, Confluence, web sites): add, list, sync, remove");
  source->require_subcommand(1);
  auto* source_add = source->add_subcommand("add", "Add a source: slack-export (folder or zip), slack (Web API), "
                                                "confluence (REST API), confluence-export (HTML space export) or web (site, blog)");
  source_add->add_option("kind", args.source_kind, "slack-export | slack | confluence | confluence-export | web")->required()
      ->check(CLI::IsMember({"slack-export", "slack", "confluence", "confluence-export", "web"}));
  source_add->add_option("--name", args.source_name, "Unique name; public channels are readable by "
                                                     "group slack-workspace:NAME")->required();
  source_add->add_option("--path", args.source_path, "slack-export, confluence-export: the export folder or .zip");
  source_add->add_option("--workspace", args.workspace, "slack-export: workspace domain for permalinks (default: the name)");
  source_add->add_option("--token-file", args.token_file,
                         "slack, confluence: file holding the token; web: a credential for the site, if it needs "
                         "one (stored encrypted)");
  source_add->add_option("--auth", args.web_auth,
                         "web: how --token-file is sent to the site's own origins: bearer (default), basic (the "
                         "file holds user:password) or header (the file holds a whole header line, e.g. "
                         "'Cookie: session=...')")
      ->check(CLI::IsMember({"bearer", "basic", "header"}));
  source_add->add_option("--base-url", args.base_url, "confluence: site URL (https://acme.atlassian.net/wiki)");
  source_add->add_option("--user", args.account,
                         "confluence: Cloud account e-mail (basic auth with an API token); "
                         "without it the token is a Data Center personal access token (bearer)");
  source_add->add_option("--space", args.spaces, "confluence: a space key to sync (repeatable; default: all); "
                         "confluence-export: the space key (default: the export's folder name)");
  source_add->add_option("--api-url", args.api_url, "slack: Web API base URL")->default_str("https://slack.com/api");
  source_add->add_option("--rate-per-min", args.rate_per_minute, "slack, confluence, web: requests per minute for this source")
      ->check(CLI::Range(1.0, 10000000.0));
  source_add->add_option("--url", args.site_url, "web: the site; crawled from here when there is no sitemap or feed");
  source_add->add_option("--sitemap", args.sitemaps, "web: sitemap.xml or sitemap index URL (repeatable)");
  source_add->add_option("--feed", args.feeds, "web: RSS 2.0 or Atom feed URL (repeatable)");
  source_add->add_option("--interval-min", args.interval_min,
                          "minutes between the server's syncs of this source (0: manual only; default: --sync-interval-min)")
      ->check(CLI::Range(0.0, 10080.0));
  source_add->add_option("--rescan-days", args.rescan_days,
                         "slack: days between full re-reads of a channel, which notice edits and deletions older "
                         "than 7 days (default 7; 0: never)")
      ->check(CLI::Range(0.0, 3650.0));
  source_add->add_option("--max-pages", args.max_pages, "web: pages fetched per sync")->default_str("1000")
      ->check(CLI::Range(1, 10000000));
  source_add->add_option("--acl", args.acl, "web, confluence-export: who may read the pages: public, user:LOGIN, group:NAME "
                                            "(repeatable; default public for web, "
                                            "group:confluence-space:KEY for confluence-export)");
  source->add_subcommand("list", "Sources with their documents, last success, next run, documents seen and last error");
  auto* source_sync = source->add_subcommand("sync", "Sync one source (ID) or --all, then update the index");
  source_sync->add_option("id", args.source_id, "Source id");
  source_sync->add_flag("--all", args.all, "Every connector source");
  auto* source_remove = source->add_subcommand("remove", "Remove a source and its documents");
  source_remove->add_option("id", args.source_id, "Source id")->required();

  app.add_subcommand("reindex", "Rebuild the index from the store");
  app.add_subcommand("verify", "Check the store and the index against each other");
  app.add_subcommand("status", "Sources, documents and index figures");
  app.add_subcommand("serve", "Serve the web UI, the JSON API and the OpenAI-compatible API over HTTP");
  app.add_subcommand("options", "Print the option table (flag, environment, default)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "savoir: %s (see savoir --help)\n", e.what());
    return 2;
  }

  Status st = ApplyDefaultsAndEnvironment(config);
  for (const auto& o : OptionTable()) {
    if (!st.ok()) break;
    auto it = given.find(o.flag);
    if (it != given.end()) st = o.set(config, it->second);
  }
  if (!st.ok()) {
    std::fprintf(stderr, "savoir: %s\n", st.message().c_str());
    return 2;
  }

  const std::string cmd = app.get_subcommands().front()->get_name();
  if (cmd == "index") return CmdIndex(config, args);
  if (cmd == "search") return CmdSearch(config, args);
  if (cmd == "eval") return CmdEval(config, args);
  if (cmd == "analyze") return CmdAnalyze(config, args);
  if (cmd == "reindex") return CmdReindex(config);
  if (cmd == "source") {
    const std::string sub = source->get_subcommands().front()->get_name();
    if (sub == "add") return CmdSourceAdd(config, args);
    if (sub == "list") return CmdSourceList(config);
    if (sub == "sync") return CmdSourceSync(config, args);
    return CmdSourceRemove(config, args);
  }
  if (cmd == "verify") return CmdVerify(config);
  if (cmd == "status") return CmdStatus(config);
  if (cmd == "serve") return CmdServe(config);
  if (cmd == "ask") return CmdAsk(config, args);
  if (cmd == "usage") return CmdUsage(config, args);
  if (cmd == "embed") return CmdEmbed(config, args);
  if (cmd == "rerank") return CmdRerank(config, args);
  if (cmd == "options") {
    std::fputs(OptionTableMarkdown().c_str(), stdout);
    return 0;
  }
  return 2;
}

}  // namespace savoir
