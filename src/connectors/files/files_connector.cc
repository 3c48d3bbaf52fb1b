#include "connectors/files/files_connector.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_set>

#include "common/file.h"
#include "connectors/files/access_file.h"
#include "ingest/parse/parser.h"

namespace savoir {
namespace fs = std::filesystem;

namespace {

struct FileTask {
  std::string path, rel;
  AccessList acl;
  std::string hash;
  int64_t mtime = 0;
  std::optional<DocumentVersion> existing;
  bool acl_only = false;   // same bytes, new access list: no parsing needed
  bool unchanged = false;  // same bytes, same access list: nothing to do
  Result<ParsedDocument> parsed = Status(ErrorKind::kInternal, "not parsed");
  PreparedDocument prepared;  // chunked and language-detected by the worker that parsed it
  bool done = false;
};

bool IsHidden(const fs::path& p) {
  std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

std::string FileUrl(const std::string& abs) {
  std::string url = "file://";
  for (unsigned char c : abs) {
    if (isalnum(c) || strchr("/-._~", c)) url.push_back(static_cast<char>(c));
    else {
      char buf[4];
      snprintf(buf, sizeof(buf), "%%%02X", c);
      url += buf;
    }
  }
  return url;
}

}  // namespace

Status SyncFiles(Store& store, const std::string& root_arg, const FilesSyncOptions& opt,
                 SyncSummary* summary) {
  std::error_code ec;
  fs::path root = fs::weakly_canonical(fs::absolute(root_arg, ec), ec);
  if (ec || !fs::exists(root, ec))
    return Status(ErrorKind::kNotFound, "cannot read " + root_arg + ": no such file or folder");
  bool single = fs::is_regular_file(root, ec);
  SAVOIR_ASSIGN_OR_RETURN(int64_t source, store.EnsureSource("files", root.string()));
  AccessResolver access(single ? root.parent_path().string() : root.string());

  // 1. Walk: which files, with which access list.
  std::vector<FileTask> tasks;
  auto consider = [&](const fs::path& p) {
    if (!IsSupportedFile(p.filename().string())) {
      ++summary->skipped;
      return;
    }
    FileTask t;
    t.path = p.string();
    t.rel = single ? p.filename().string() : fs::relative(p, root, ec).string();
    auto acl = access.ForFolder(p.parent_path().string());
    if (!acl.ok()) {
      summary->failed.push_back({t.path, acl.status().message()});
      t.done = true;
      t.parsed = acl.status();
    } else {
      t.acl = *acl;
    }
    tasks.push_back(std::move(t));
  };
  if (single) {
    consider(root);
  } else {
    fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
    if (ec) return Status(ErrorKind::kIo, "cannot read folder " + root.string() + ": " + ec.message());
    for (; it != end; it.increment(ec)) {
      if (ec) break;
      if (IsHidden(it->path())) {
        if (it->is_directory(ec)) it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file(ec)) consider(it->path());
    }
  }

  // 2. Hash and compare with the store: unchanged files are not parsed.
  std::vector<size_t> to_parse;
  std::unordered_set<std::string> seen;
  for (size_t i = 0; i < tasks.size(); ++i) {
    FileTask& t = tasks[i];
    // A file under a broken .savoir-acl is not "seen": its stored version is
    // removed rather than left readable under an outdated access list.
    if (!t.acl.empty()) seen.insert(t.rel);
    if (t.done) continue;
    struct stat st {};
    if (::stat(t.path.c_str(), &st) != 0) {
      t.parsed = Status(ErrorKind::kIo, "cannot stat file");
      t.done = true;
      continue;
    }
    t.mtime = st.st_mtime;
    if (st.st_size > opt.limits.max_file_bytes) {
      t.parsed = Status(ErrorKind::kTooLarge, "file too large (" + std::to_string(st.st_size >> 20) +
                                                  " MB > " + std::to_string(opt.limits.max_file_bytes >> 20) +
                                                  " MB limit, see --max-file-mb)");
      t.done = true;
      continue;
    }
    auto bytes = ReadFile(t.path);
    if (!bytes.ok()) {
      t.parsed = bytes.status();
      t.done = true;
      continue;
    }
    t.hash = ContentHash(*bytes);
    SAVOIR_ASSIGN_OR_RETURN(t.existing, store.FindDocument(source, t.rel));
    if (t.existing && t.existing->content_hash == t.hash) {
      AccessList a = t.acl, b = t.existing->acl;
      std::sort(a.begin(), a.end());
      std::sort(b.begin(), b.end());
      if (a == b) {
        ++summary->unchanged;
        t.unchanged = true;
        t.done = true;
        t.parsed = ParsedDocument{};
        continue;
      }
      t.acl_only = true;
      t.done = true;
      t.parsed = ParsedDocument{};
      continue;
    }
    to_parse.push_back(i);
  }

  // 3. Parse in worker processes, store in order from this thread in small
  // transactions (a kill loses at most the open transaction; the next run
  // redoes those files).
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<size_t> next{0};
  int n_workers = std::max(1, std::min<int>(opt.workers, static_cast<int>(to_parse.size())));
  std::vector<std::thread> threads;
  for (int w = 0; w < n_workers && !to_parse.empty(); ++w) {
    threads.emplace_back([&] {
      ParseWorker worker(opt.limits);
      for (size_t j; (j = next.fetch_add(1)) < to_parse.size();) {
        FileTask& t = tasks[to_parse[j]];
        auto parsed = worker.Parse(t.path);
        // Chunking and language detection here too, on the workers' threads
        // (the writer thread only writes).
        PreparedDocument prepared;
        if (parsed.ok()) {
          SourceDocument doc;
          doc.external_id = t.rel;
          doc.url = FileUrl(t.path);
          doc.parsed = std::move(parsed).value();
          if (doc.parsed.title.empty()) doc.parsed.title = fs::path(t.rel).filename().string();
          doc.acl = t.acl;
          doc.updated_at = t.mtime;
          doc.content_hash = t.hash;
          prepared = PrepareDocument(source, doc, opt.ingest);
          parsed = ParsedDocument{};
        }
        std::lock_guard<std::mutex> lock(mu);
        t.parsed = std::move(parsed);
        t.prepared = std::move(prepared);
        t.done = true;
        cv.notify_all();
      }
    });
  }

  Status write_status = Status::Ok();
  size_t done = 0;
  const size_t kBatch = 64;
  size_t i = 0;
  while (i < tasks.size() && write_status.ok()) {
    size_t batch_end = std::min(tasks.size(), i + kBatch);
    write_status = store.InTransaction([&]() -> Status {
      for (; i < batch_end; ++i) {
        FileTask& t = tasks[i];
        {
          std::unique_lock<std::mutex> lock(mu);
          cv.wait(lock, [&] { return t.done; });
        }
        if (opt.progress) opt.progress(++done, tasks.size(), t.rel);
        if (!t.parsed.ok()) {
          if (std::none_of(summary->failed.begin(), summary->failed.end(),
                           [&](const FileFailure& f) { return f.path == t.path; }))
            summary->failed.push_back({t.path, t.parsed.status().message()});
          continue;
        }
        if (t.unchanged) continue;
        if (t.acl_only) {
          SAVOIR_ASSIGN_OR_RETURN(DocumentRecord doc, store.GetDocument(t.existing->id));
          SAVOIR_ASSIGN_OR_RETURN(auto chunks, store.GetChunks(t.existing->id));
          doc.acl = t.acl;
          SAVOIR_RETURN_IF_ERROR(store.PutDocument(&doc, &chunks));
          ++summary->updated;
          continue;
        }
        SAVOIR_RETURN_IF_ERROR(store.PutDocument(&t.prepared.doc, &t.prepared.chunks));
        t.prepared = PreparedDocument{};  // its text is not needed any more
        t.existing ? ++summary->updated : ++summary->added;
      }
      return Status::Ok();
    });
  }
  if (!write_status.ok()) next = to_parse.size();  // stop the workers early
  for (auto& th : threads) th.join();
  SAVOIR_RETURN_IF_ERROR(write_status);

  // 4. Documents whose file disappeared.
  SAVOIR_ASSIGN_OR_RETURN(auto stored, store.ListDocuments(source));
  return store.InTransaction([&]() -> Status {
    for (const auto& [ext, id] : stored) {
      if (seen.count(ext)) continue;
      SAVOIR_RETURN_IF_ERROR(store.DeleteDocument(id));
      ++summary->removed;
    }
    return Status::Ok();
  });
}

}  // namespace savoir
