// SQLite implementation of Store: WAL mode, versioned migrations, prepared
// statements cached per connection. Writes go through one connection guarded
// by a (recursive) mutex: SQLite serializes writers anyway. The reads a search
// makes (passages, documents, chunks, sources, the change log) go through a
// pool of read-only connections, so concurrent requests read in parallel
// (WAL lets readers run beside the writer, each on the last committed state).
// A thread inside a write (a transaction it opened) reads through the writer
// connection, so it sees its own uncommitted writes.
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "store/store.h"

namespace savoir {
namespace {

// Each entry moves the schema one version up; never edit a released entry.
// Document and chunk ids are AUTOINCREMENT so they are never reused: the
// index may briefly refer to a replaced chunk, and that id must not name
// another document's text.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE sources(
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  name TEXT NOT NULL UNIQUE,
  config TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL);
CREATE TABLE documents(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  source_id INTEGER NOT NULL REFERENCES sources(id),
  external_id TEXT NOT NULL,
  title TEXT NOT NULL DEFAULT '',
  url TEXT NOT NULL DEFAULT '',
  language TEXT NOT NULL DEFAULT '',
  content_hash TEXT NOT NULL DEFAULT '',
  author TEXT NOT NULL DEFAULT '',
  content TEXT NOT NULL DEFAULT '',
  metadata TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL DEFAULT 0,
  indexed_at INTEGER NOT NULL DEFAULT 0,
  UNIQUE(source_id, external_id));
CREATE TABLE chunks(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  ordinal INTEGER NOT NULL,
  begin_offset INTEGER NOT NULL,
  end_offset INTEGER NOT NULL,
  heading_path TEXT NOT NULL DEFAULT '',
  language TEXT NOT NULL DEFAULT '',
  tokens INTEGER NOT NULL DEFAULT 0);
CREATE INDEX chunks_by_document ON chunks(document_id, ordinal);
CREATE TABLE access(
  document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
  entry TEXT NOT NULL,
  PRIMARY KEY(document_id, entry)) WITHOUT ROWID;
CREATE TABLE changes(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  document_id INTEGER NOT NULL,
  op TEXT NOT NULL CHECK(op IN ('put', 'delete')),
  at INTEGER NOT NULL);
)sql",
    // Connector state: the checkpoint and what the last runs did. Errors are
    // stored one per line.
    R"sql(
CREATE TABLE source_state(
  source_id INTEGER PRIMARY KEY REFERENCES sources(id) ON DELETE CASCADE,
  checkpoint TEXT NOT NULL DEFAULT '',
  last_attempt INTEGER NOT NULL DEFAULT 0,
  last_success INTEGER NOT NULL DEFAULT 0,
  next_run INTEGER NOT NULL DEFAULT 0,
  documents_seen INTEGER NOT NULL DEFAULT 0,
  errors TEXT NOT NULL DEFAULT '');
)sql",
    // Models (docs/models.md): vectors cached by model and chunk text hash,
    // so re-indexing unchanged text embeds nothing; and what each model
    // answer cost.
    R"sql(
CREATE TABLE embedding_cache(
  model TEXT NOT NULL,
  text_hash BLOB NOT NULL,
  vector BLOB NOT NULL,
  PRIMARY KEY(model, text_hash)) WITHOUT ROWID;
CREATE TABLE answer_usage(
  id INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  model TEXT NOT NULL,
  mode TEXT NOT NULL,
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  latency_ms REAL NOT NULL DEFAULT 0,
  first_token_ms REAL NOT NULL DEFAULT 0,
  error TEXT NOT NULL DEFAULT '');
)sql",
    // Connector item state (Store::PutItemStates): per source and item key,
    // stamped with the run that last wrote it.
    R"sql(
CREATE TABLE connector_items(
  source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  run INTEGER NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY(source_id, key)) WITHOUT ROWID;
CREATE INDEX connector_items_run ON connector_items(source_id, run);
)sql",
};

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  ~Stmt() { sqlite3_reset(s_); sqlite3_clear_bindings(s_); }
  Stmt& Bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); return *this; }
  Stmt& BindReal(int i, double v) { sqlite3_bind_double(s_, i, v); return *this; }
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& BindBlob(int i, const void* data, size_t n) {
    sqlite3_bind_blob(s_, i, data, static_cast<int>(n), SQLITE_TRANSIENT);
    return *this;
  }
  std::string_view Blob(int c) {
    const char* p = static_cast<const char*>(sqlite3_column_blob(s_, c));
    return p ? std::string_view(p, sqlite3_column_bytes(s_, c)) : std::string_view();
  }
  int Step() { return sqlite3_step(s_); }
  int64_t Int(int c) { return sqlite3_column_int64(s_, c); }
  double Real(int c) { return sqlite3_column_double(s_, c); }
  std::string Text(int c) {
    const char* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, c));
    return p ? std::string(p, sqlite3_column_bytes(s_, c)) : std::string();
  }

 private:
  sqlite3_stmt* s_;
};

// One SQLite connection with its prepared statements, keyed by the address
// of the SQL string literal (no allocation or hashing of the text per call).
struct Conn {
  sqlite3* db = nullptr;
  std::unordered_map<const char*, sqlite3_stmt*> stmts;
  Conn() = default;
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  ~Conn() {
    for (auto& [_, s] : stmts) sqlite3_finalize(s);
    if (db) sqlite3_close_v2(db);
  }
  Stmt Prepare(const char* sql) {
    auto it = stmts.find(sql);
    if (it == stmts.end()) {
      sqlite3_stmt* s = nullptr;
      if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) {
        // A bad statement is a bug; an unreadable file surfaces here too.
        sqlite3_prepare_v2(db, "SELECT raise(ABORT, 'prepare failed')", -1, &s, nullptr);
      }
      it = stmts.emplace(sql, s).first;
    }
    return Stmt(it->second);
  }
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(std::string path) : path_(std::move(path)) {
    // Enough that a request never waits for a connection held by a thread
    // the scheduler preempted (servers run many more threads than cores);
    // they are opened only as concurrent reads need them.
    max_readers_ = 256;
  }
  ~SqliteStore() override = default;

  Status Open() {
    int rc = sqlite3_open_v2(path_.c_str(), &w_.db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    if (rc != SQLITE_OK) return Error("cannot open store");
    sqlite3_busy_timeout(w_.db, 10000);
    // A corrupt or foreign file fails here, before anything is written.
    if (auto st = Exec("PRAGMA journal_mode=WAL"); !st.ok()) return st;
    SAVOIR_RETURN_IF_ERROR(Exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"));
    return Migrate();
  }

  Result<int64_t> EnsureSource(const std::string& kind, const std::string& name,
                               const std::string& config_json) override {
    WriterLock lock(this);
    {
      Stmt q = Prepare("SELECT id, kind FROM sources WHERE name = ?");
      q.Bind(1, name);
      if (q.Step() == SQLITE_ROW) {
        if (q.Text(1) != kind)
          return Status(ErrorKind::kAlreadyExists,
                        "source '" + name + "' already exists with kind " + q.Text(1));
        return q.Int(0);
      }
    }
    Stmt ins = Prepare("INSERT INTO sources(kind, name, config, created_at) VALUES(?, ?, ?, ?)");
    ins.Bind(1, kind).Bind(2, name).Bind(3, config_json).Bind(4, NowSeconds());
    if (ins.Step() != SQLITE_DONE) return Error("cannot add source " + name);
    return static_cast<int64_t>(sqlite3_last_insert_rowid(w_.db));
  }

  Result<std::vector<SourceRecord>> ListSources() override {
    WriterLock lock(this);
    Stmt q = Prepare(
        "SELECT s.id, s.kind, s.name, s.config, s.created_at, "
        "(SELECT count(*) FROM documents d WHERE d.source_id = s.id) FROM sources s ORDER BY s.id");
    std::vector<SourceRecord> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW)
      out.push_back({q.Int(0), q.Text(1), q.Text(2), q.Text(3), q.Int(4), q.Int(5)});
    if (rc != SQLITE_DONE) return Error("cannot list sources");
    return out;
  }

  // One row, without the document count (a per-source scan): this is on the
  // path of every search result.
  Result<SourceRecord> GetSource(int64_t id) override {
    return Read([&](Conn& c) -> Result<SourceRecord> {
      Stmt q = c.Prepare("SELECT id, kind, name, config, created_at FROM sources WHERE id = ?");
      q.Bind(1, id);
      int rc = q.Step();
      if (rc == SQLITE_DONE) return Status(ErrorKind::kNotFound, "no source with id " + std::to_string(id));
      if (rc != SQLITE_ROW) return ErrorOn(c.db, "cannot read source " + std::to_string(id));
      return SourceRecord{q.Int(0), q.Text(1), q.Text(2), q.Text(3), q.Int(4), 0};
    });
  }

  Status DeleteSource(int64_t id) override {
    WriterLock lock(this);
    SAVOIR_RETURN_IF_ERROR(GetSource(id).status());
    SAVOIR_ASSIGN_OR_RETURN(auto docs, ListDocuments(id));
    bool own_tx = sqlite3_get_autocommit(w_.db);
    if (own_tx) SAVOIR_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status st = [&]() -> Status {
      for (const auto& [ext, doc_id] : docs) SAVOIR_RETURN_IF_ERROR(DeleteDocument(doc_id));
      Stmt del = Prepare("DELETE FROM sources WHERE id = ?");
      del.Bind(1, id);
      if (del.Step() != SQLITE_DONE) return Error("cannot delete source " + std::to_string(id));
      return Status::Ok();
    }();
    if (!own_tx) return st;
    if (!st.ok()) {
      (void)Exec("ROLLBACK");
      return st;
    }
    return Exec("COMMIT");
  }

  Status SetSourceConfig(int64_t id, const std::string& config_json) override {
    WriterLock lock(this);
    Stmt up = Prepare("UPDATE sources SET config = ? WHERE id = ?");
    up.Bind(1, config_json).Bind(2, id);
    if (up.Step() != SQLITE_DONE) return Error("cannot update source " + std::to_string(id));
    if (sqlite3_changes(w_.db) == 0) return Status(ErrorKind::kNotFound, "no source with id " + std::to_string(id));
    return Status::Ok();
  }

  Result<std::string> GetCheckpoint(int64_t source_id) override {
    WriterLock lock(this);
    Stmt q = Prepare("SELECT checkpoint FROM source_state WHERE source_id = ?");
    q.Bind(1, source_id);
    int rc = q.Step();
    if (rc == SQLITE_DONE) return std::string();
    if (rc != SQLITE_ROW) return Error("cannot read the checkpoint of source " + std::to_string(source_id));
    return q.Text(0);
  }

  Status SetCheckpoint(int64_t source_id, const std::string& checkpoint) override {
    WriterLock lock(this);
    Stmt up = Prepare(
        "INSERT INTO source_state(source_id, checkpoint) VALUES(?, ?) "
        "ON CONFLICT(source_id) DO UPDATE SET checkpoint = excluded.checkpoint");
    up.Bind(1, source_id).Bind(2, checkpoint);
    if (up.Step() != SQLITE_DONE) return Error("cannot save the checkpoint of source " + std::to_string(source_id));
    return Status::Ok();
  }

  Status PutItemStates(int64_t source_id, int64_t run,
                       const std::vector<std::pair<std::string, std::string>>& items) override {
    WriterLock lock(this);
    for (const auto& [key, value] : items) {
      Stmt up = Prepare(  // cached; reset when `up` goes
          "INSERT INTO connector_items(source_id, key, run, value) VALUES(?, ?, ?, ?) "
          "ON CONFLICT(source_id, key) DO UPDATE SET run = excluded.run, value = excluded.value");
      up.Bind(1, source_id).Bind(2, key).Bind(3, run).Bind(4, value);
      if (up.Step() != SQLITE_DONE) return Error("cannot save the item state of source " + std::to_string(source_id));
    }
    return Status::Ok();
  }

  Result<std::optional<std::string>> GetItemState(int64_t source_id, const std::string& key) override {
    WriterLock lock(this);
    Stmt q = Prepare("SELECT value FROM connector_items WHERE source_id = ? AND key = ?");
    q.Bind(1, source_id).Bind(2, key);
    int rc = q.Step();
    if (rc == SQLITE_DONE) return std::optional<std::string>();
    if (rc != SQLITE_ROW) return Error("cannot read the item state of source " + std::to_string(source_id));
    return std::optional<std::string>(q.Text(0));
  }

  Status PruneItemStates(int64_t source_id, int64_t before_run) override {
    WriterLock lock(this);
    Stmt del = Prepare("DELETE FROM connector_items WHERE source_id = ? AND run < ?");
    del.Bind(1, source_id).Bind(2, before_run);
    if (del.Step() != SQLITE_DONE) return Error("cannot prune the item state of source " + std::to_string(source_id));
    return Status::Ok();
  }

  Status RecordSyncStatus(int64_t source_id, const SyncStatus& s) override {
    WriterLock lock(this);
    std::string errors;
    for (const auto& e : s.errors) {
      if (!errors.empty()) errors += '\n';
      for (char c : e) errors += c == '\n' ? ' ' : c;  // one line per error
    }
    Stmt up = Prepare(
        "INSERT INTO source_state(source_id, last_attempt, last_success, next_run, documents_seen, errors) "
        "VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(source_id) DO UPDATE SET last_attempt = excluded.last_attempt, "
        "last_success = excluded.last_success, next_run = excluded.next_run, "
        "documents_seen = excluded.documents_seen, errors = excluded.errors");
    up.Bind(1, source_id).Bind(2, s.last_attempt).Bind(3, s.last_success).Bind(4, s.next_run)
        .Bind(5, s.documents_seen).Bind(6, errors);
    if (up.Step() != SQLITE_DONE) return Error("cannot save the sync status of source " + std::to_string(source_id));
    return Status::Ok();
  }

  Result<SyncStatus> GetSyncStatus(int64_t source_id) override {
    WriterLock lock(this);
    Stmt q = Prepare(
        "SELECT last_attempt, last_success, next_run, documents_seen, errors FROM source_state "
        "WHERE source_id = ?");
    q.Bind(1, source_id);
    SyncStatus s;
    int rc = q.Step();
    if (rc == SQLITE_DONE) return s;
    if (rc != SQLITE_ROW) return Error("cannot read the sync status of source " + std::to_string(source_id));
    s.last_attempt = q.Int(0);
    s.last_success = q.Int(1);
    s.next_run = q.Int(2);
    s.documents_seen = q.Int(3);
    std::string errors = q.Text(4);
    for (size_t pos = 0; pos < errors.size();) {
      size_t nl = errors.find('\n', pos);
      if (nl == std::string::npos) nl = errors.size();
      s.errors.push_back(errors.substr(pos, nl - pos));
      pos = nl + 1;
    }
    return s;
  }

  Status RecordAnswerUsage(AnswerUsageRecord* r) override {
    WriterLock lock(this);
    if (r->at == 0) r->at = NowSeconds();
    Stmt ins = Prepare(
        "INSERT INTO answer_usage(at, model, mode, prompt_tokens, completion_tokens, latency_ms, first_token_ms, error) "
        "VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
    ins.Bind(1, r->at).Bind(2, r->model).Bind(3, r->mode).Bind(4, r->prompt_tokens).Bind(5, r->completion_tokens)
        .BindReal(6, r->latency_ms).BindReal(7, r->first_token_ms).Bind(8, r->error);
    if (ins.Step() != SQLITE_DONE) return Error("cannot record answer usage");
    r->id = sqlite3_last_insert_rowid(w_.db);
    return Status::Ok();
  }

  Result<std::vector<AnswerUsageRecord>> ListAnswerUsage(size_t limit) override {
    WriterLock lock(this);
    Stmt q = Prepare(
        "SELECT id, at, model, mode, prompt_tokens, completion_tokens, latency_ms, first_token_ms, error "
        "FROM answer_usage ORDER BY id DESC LIMIT ?");
    q.Bind(1, static_cast<int64_t>(limit));
    std::vector<AnswerUsageRecord> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW)
      out.push_back({q.Int(0), q.Int(1), q.Text(2), q.Text(3), q.Int(4), q.Int(5), q.Real(6), q.Real(7), q.Text(8)});
    if (rc != SQLITE_DONE) return Error("cannot list answer usage");
    return out;
  }

  Status InTransaction(const std::function<Status()>& body) override {
    WriterLock lock(this);
    SAVOIR_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
    Status st = body();
    if (!st.ok()) {
      (void)Exec("ROLLBACK");
      return st;
    }
    return Exec("COMMIT");
  }

  Status PutDocument(DocumentRecord* doc, std::vector<ChunkRecord>* chunks) override {
    WriterLock lock(this);
    bool own_tx = sqlite3_get_autocommit(w_.db);
    if (own_tx) SAVOIR_RETURN_IF_ERROR(Exec("SAVEPOINT put_document"));
    Status st = PutDocumentLocked(doc, chunks);
    if (own_tx) {
      if (!st.ok()) {
        (void)Exec("ROLLBACK TO put_document");
        (void)Exec("RELEASE put_document");
        return st;
      }
      return Exec("RELEASE put_document");
    }
    return st;
  }

  Status DeleteDocument(int64_t id) override {
    WriterLock lock(this);
    {
      Stmt del = Prepare("DELETE FROM documents WHERE id = ?");
      del.Bind(1, id);
      if (del.Step() != SQLITE_DONE) return Error("cannot delete document " + std::to_string(id));
    }
    if (sqlite3_changes(w_.db) == 0)
      return Status(ErrorKind::kNotFound, "no document with id " + std::to_string(id));
    return LogChange(id, "delete");
  }

  Result<std::optional<DocumentVersion>> FindDocument(int64_t source_id,
                                                      const std::string& external_id) override {
    WriterLock lock(this);
    Stmt q = Prepare("SELECT id, content_hash FROM documents WHERE source_id = ? AND external_id = ?");
    q.Bind(1, source_id).Bind(2, external_id);
    int rc = q.Step();
    if (rc == SQLITE_DONE) return std::optional<DocumentVersion>();
    if (rc != SQLITE_ROW) return Error("cannot look up document " + external_id);
    DocumentVersion v{q.Int(0), q.Text(1), {}};
    SAVOIR_ASSIGN_OR_RETURN(v.acl, GetAccess(v.id));
    return std::optional<DocumentVersion>(std::move(v));
  }

  Result<std::vector<std::pair<std::string, int64_t>>> ListDocuments(int64_t source_id) override {
    WriterLock lock(this);
    Stmt q = Prepare("SELECT external_id, id FROM documents WHERE source_id = ? ORDER BY id");
    q.Bind(1, source_id);
    std::vector<std::pair<std::string, int64_t>> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) out.emplace_back(q.Text(0), q.Int(1));
    if (rc != SQLITE_DONE) return Error("cannot list documents");
    return out;
  }

  Result<DocumentRecord> GetDocument(int64_t id) override {
    return Read([&](Conn& c) { return DocumentOn(c, id); });
  }

  Result<std::vector<ChunkRecord>> GetChunks(int64_t document_id) override {
    return Read([&](Conn& c) { return ChunksOn(c, document_id); });
  }

  // One read transaction for the whole list (three statements a document,
  // each outside one taking and dropping its own locks: 6 fcntl calls a
  // document when the index catches up).
  std::vector<Result<DocumentWithChunks>> GetDocumentsWithChunks(const std::vector<int64_t>& ids) override {
    return Read([&](Conn& c) {
      return InReadTransaction(c, ids.size() > 1, [&] {
        return GatherDocumentsWithChunks(ids, [&](int64_t id) { return DocumentOn(c, id); },
                                         [&](int64_t id) { return ChunksOn(c, id); });
      });
    });
  }

  Result<PassageRecord> GetPassage(int64_t chunk_id) override {
    return Read([&](Conn& c) { return PassageOn(c, chunk_id); });
  }

  // One read transaction for the whole page (each statement outside one
  // starts and ends its own: file and WAL locks, system calls).
  std::vector<Result<PassageRecord>> GetPassages(const std::vector<int64_t>& chunk_ids) override {
    return Read([&](Conn& c) {
      return InReadTransaction(c, chunk_ids.size() > 1, [&] {
        std::vector<Result<PassageRecord>> out;
        out.reserve(chunk_ids.size());
        for (int64_t id : chunk_ids) out.push_back(PassageOn(c, id));
        return out;
      });
    });
  }

  // f() inside one read transaction when `many` statements follow and none
  // is open (each statement outside one takes and drops the locks itself).
  template <typename F>
  static auto InReadTransaction(Conn& c, bool many, F&& f) -> decltype(f()) {
    const bool own_tx = many && sqlite3_get_autocommit(c.db) &&
                        sqlite3_exec(c.db, "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK;
    auto out = f();
    if (own_tx) sqlite3_exec(c.db, "COMMIT", nullptr, nullptr, nullptr);
    return out;
  }

  Result<DocumentRecord> DocumentOn(Conn& c, int64_t id) {
    DocumentRecord d;
    {
      Stmt q = c.Prepare(
          "SELECT id, source_id, external_id, title, url, language, content_hash, author, content, "
          "metadata, created_at, updated_at, indexed_at FROM documents WHERE id = ?");
      q.Bind(1, id);
      int rc = q.Step();
      if (rc == SQLITE_DONE) return Status(ErrorKind::kNotFound, "no document with id " + std::to_string(id));
      if (rc != SQLITE_ROW) return ErrorOn(c.db, "cannot read document " + std::to_string(id));
      d.id = q.Int(0);
      d.source_id = q.Int(1);
      d.external_id = q.Text(2);
      d.title = q.Text(3);
      d.url = q.Text(4);
      d.language = q.Text(5);
      d.content_hash = q.Text(6);
      d.author = q.Text(7);
      d.content = q.Text(8);
      d.metadata_json = q.Text(9);
      d.created_at = q.Int(10);
      d.updated_at = q.Int(11);
      d.indexed_at = q.Int(12);
    }
    SAVOIR_ASSIGN_OR_RETURN(d.acl, GetAccessOn(c, id));
    return d;
  }

  Result<std::vector<ChunkRecord>> ChunksOn(Conn& c, int64_t document_id) {
    Stmt q = c.Prepare(
        "SELECT id, document_id, ordinal, begin_offset, end_offset, heading_path, language, tokens "
        "FROM chunks WHERE document_id = ? ORDER BY ordinal");
    q.Bind(1, document_id);
    std::vector<ChunkRecord> out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) out.push_back(ReadChunk(q));
    if (rc != SQLITE_DONE) return ErrorOn(c.db, "cannot read chunks");
    return out;
  }

  Result<PassageRecord> PassageOn(Conn& c, int64_t chunk_id) {
    {
      // Byte offsets: substr() counts bytes only on a BLOB.
      Stmt q = c.Prepare(
          "SELECT c.id, c.document_id, c.ordinal, c.begin_offset, c.end_offset, c.heading_path, c.language, "
          "c.tokens, d.source_id, d.external_id, d.title, d.url, d.language, d.author, d.created_at, "
          "d.updated_at, substr(CAST(d.content AS BLOB), c.begin_offset + 1, c.end_offset - c.begin_offset) "
          "FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id = ?");
      q.Bind(1, chunk_id);
      int rc = q.Step();
      if (rc == SQLITE_DONE) return Status(ErrorKind::kNotFound, "no chunk with id " + std::to_string(chunk_id));
      if (rc != SQLITE_ROW) return ErrorOn(c.db, "cannot read chunk");
      PassageRecord p;
      p.chunk = ReadChunk(q);
      p.doc.id = p.chunk.document_id;
      p.doc.source_id = q.Int(8);
      p.doc.external_id = q.Text(9);
      p.doc.title = q.Text(10);
      p.doc.url = q.Text(11);
      p.doc.language = q.Text(12);
      p.doc.author = q.Text(13);
      p.doc.created_at = q.Int(14);
      p.doc.updated_at = q.Int(15);
      p.text = q.Text(16);
      return p;
    }
  }

  Result<ChunkRecord> GetChunk(int64_t chunk_id) override {
    return Read([&](Conn& c) -> Result<ChunkRecord> {
      Stmt q = c.Prepare(
          "SELECT id, document_id, ordinal, begin_offset, end_offset, heading_path, language, tokens "
          "FROM chunks WHERE id = ?");
      q.Bind(1, chunk_id);
      int rc = q.Step();
      if (rc == SQLITE_DONE) return Status(ErrorKind::kNotFound, "no chunk with id " + std::to_string(chunk_id));
      if (rc != SQLITE_ROW) return ErrorOn(c.db, "cannot read chunk");
      return ReadChunk(q);
    });
  }

  Result<std::vector<Change>> ChangesSince(int64_t after_seq, size_t limit) override {
    return Read([&](Conn& c) -> Result<std::vector<Change>> {
      Stmt q = c.Prepare("SELECT seq, document_id, op FROM changes WHERE seq > ? ORDER BY seq LIMIT ?");
      q.Bind(1, after_seq).Bind(2, static_cast<int64_t>(limit));
      std::vector<Change> out;
      int rc;
      while ((rc = q.Step()) == SQLITE_ROW) out.push_back({q.Int(0), q.Int(1), q.Text(2) == "delete"});
      if (rc != SQLITE_DONE) return ErrorOn(c.db, "cannot read the change log");
      return out;
    });
  }

  Result<int64_t> LastChangeSeq() override {
    return Read([&](Conn& c) -> Result<int64_t> {
      Stmt q = c.Prepare("SELECT coalesce(max(seq), 0) FROM changes");
      if (q.Step() != SQLITE_ROW) return ErrorOn(c.db, "cannot read the change log");
      return q.Int(0);
    });
  }

  Result<std::vector<int64_t>> AllDocumentIds() override {
    return Read([&](Conn& c) -> Result<std::vector<int64_t>> {
      Stmt q = c.Prepare("SELECT id FROM documents ORDER BY id");
      std::vector<int64_t> out;
      int rc;
      while ((rc = q.Step()) == SQLITE_ROW) out.push_back(q.Int(0));
      if (rc != SQLITE_DONE) return ErrorOn(c.db, "cannot list documents");
      return out;
    });
  }

  Result<std::vector<std::vector<float>>> GetEmbeddings(const std::string& model,
                                                        const std::vector<std::string>& hashes) override {
    WriterLock lock(this);
    std::vector<std::vector<float>> out(hashes.size());
    for (size_t i = 0; i < hashes.size(); ++i) {
      Stmt q = Prepare("SELECT vector FROM embedding_cache WHERE model = ? AND text_hash = ?");
      q.Bind(1, model).BindBlob(2, hashes[i].data(), hashes[i].size());
      int rc = q.Step();
      if (rc == SQLITE_ROW) {
        std::string_view b = q.Blob(0);
        out[i].resize(b.size() / sizeof(float));
        std::memcpy(out[i].data(), b.data(), out[i].size() * sizeof(float));
      } else if (rc != SQLITE_DONE) {
        return Error("cannot read the embedding cache");
      }
    }
    return out;
  }

  Status PutEmbeddings(const std::string& model, const std::vector<std::string>& hashes,
                       const std::vector<std::vector<float>>& vectors) override {
    if (hashes.size() != vectors.size())
      return Status(ErrorKind::kInvalidArgument, "PutEmbeddings: " + std::to_string(hashes.size()) +
                                                     " hashes for " + std::to_string(vectors.size()) + " vectors");
    WriterLock lock(this);
    SAVOIR_RETURN_IF_ERROR(Exec("SAVEPOINT put_embeddings"));
    for (size_t i = 0; i < hashes.size(); ++i) {
      Stmt q = Prepare("INSERT OR REPLACE INTO embedding_cache(model, text_hash, vector) VALUES(?,?,?)");
      q.Bind(1, model).BindBlob(2, hashes[i].data(), hashes[i].size())
          .BindBlob(3, vectors[i].data(), vectors[i].size() * sizeof(float));
      if (q.Step() != SQLITE_DONE) {
        Status st = Error("cannot write the embedding cache");
        (void)Exec("ROLLBACK TO put_embeddings");
        (void)Exec("RELEASE put_embeddings");
        return st;
      }
    }
    return Exec("RELEASE put_embeddings");
  }

  Status DeleteEmbeddings(const std::string& model) override {
    WriterLock lock(this);
    Stmt q = Prepare("DELETE FROM embedding_cache WHERE model = ?");
    q.Bind(1, model);
    if (q.Step() != SQLITE_DONE) return Error("cannot clear the embedding cache");
    return Status::Ok();
  }

  Result<int64_t> CountEmbeddings(const std::string& model) override {
    WriterLock lock(this);
    Stmt q = Prepare("SELECT count(*) FROM embedding_cache WHERE model = ?");
    q.Bind(1, model);
    if (q.Step() != SQLITE_ROW) return Error("cannot count the embedding cache");
    return q.Int(0);
  }

  Status Verify() override {
    WriterLock lock(this);
    {
      Stmt q = Prepare("PRAGMA integrity_check");
      if (q.Step() != SQLITE_ROW || q.Text(0) != "ok")
        return Status(ErrorKind::kCorrupt, "store " + path_ + " fails SQLite's integrity check");
    }
    {
      Stmt q = Prepare("PRAGMA foreign_key_check");
      if (q.Step() == SQLITE_ROW)
        return Status(ErrorKind::kCorrupt, "store " + path_ + " has rows pointing at missing rows (table " + q.Text(0) + ")");
    }
    {
      Stmt q = Prepare(
          "SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id "
          "WHERE c.begin_offset > c.end_offset OR c.end_offset > length(CAST(d.content AS BLOB)) LIMIT 1");
      if (q.Step() == SQLITE_ROW)
        return Status(ErrorKind::kCorrupt, "chunk " + std::to_string(q.Int(0)) + " points outside its document");
    }
    {
      Stmt q = Prepare("SELECT d.id FROM documents d WHERE NOT EXISTS (SELECT 1 FROM access a WHERE a.document_id = d.id) LIMIT 1");
      if (q.Step() == SQLITE_ROW)
        return Status(ErrorKind::kCorrupt, "document " + std::to_string(q.Int(0)) + " has no access list");
    }
    return Status::Ok();
  }

 private:
  Status PutDocumentLocked(DocumentRecord* doc, std::vector<ChunkRecord>* chunks) {
    int64_t now = NowSeconds();
    if (doc->acl.empty()) return Status(ErrorKind::kInvalidArgument, "document " + doc->external_id + " has an empty access list");
    int64_t id = 0;
    {
      Stmt q = Prepare("SELECT id FROM documents WHERE source_id = ? AND external_id = ?");
      q.Bind(1, doc->source_id).Bind(2, doc->external_id);
      if (q.Step() == SQLITE_ROW) id = q.Int(0);
    }
    if (id == 0) {
      Stmt ins = Prepare(
          "INSERT INTO documents(source_id, external_id, title, url, language, content_hash, author, "
          "content, metadata, created_at, updated_at, indexed_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
      BindDoc(ins, *doc, now);
      if (ins.Step() != SQLITE_DONE) return Error("cannot store document " + doc->external_id);
      id = sqlite3_last_insert_rowid(w_.db);
    } else {
      Stmt up = Prepare(
          "UPDATE documents SET source_id=?, external_id=?, title=?, url=?, language=?, content_hash=?, "
          "author=?, content=?, metadata=?, created_at=?, updated_at=?, indexed_at=? WHERE id=?");
      BindDoc(up, *doc, now);
      up.Bind(13, id);
      if (up.Step() != SQLITE_DONE) return Error("cannot update document " + doc->external_id);
      Stmt dc = Prepare("DELETE FROM chunks WHERE document_id = ?");
      dc.Bind(1, id);
      if (dc.Step() != SQLITE_DONE) return Error("cannot replace chunks");
      Stmt da = Prepare("DELETE FROM access WHERE document_id = ?");
      da.Bind(1, id);
      if (da.Step() != SQLITE_DONE) return Error("cannot replace access list");
    }
    doc->id = id;
    doc->indexed_at = now;
    for (auto& c : *chunks) {
      if (c.begin > c.end || c.end > doc->content.size())
        return Status(ErrorKind::kInvalidArgument, "chunk outside document " + doc->external_id);
      Stmt ins = Prepare(
          "INSERT INTO chunks(document_id, ordinal, begin_offset, end_offset, heading_path, language, tokens) "
          "VALUES(?,?,?,?,?,?,?)");
      ins.Bind(1, id).Bind(2, c.ordinal).Bind(3, c.begin).Bind(4, c.end).Bind(5, c.heading_path)
          .Bind(6, c.language).Bind(7, c.tokens);
      if (ins.Step() != SQLITE_DONE) return Error("cannot store chunk");
      c.id = sqlite3_last_insert_rowid(w_.db);
      c.document_id = id;
    }
    for (const auto& e : doc->acl) {
      Stmt ins = Prepare("INSERT OR IGNORE INTO access(document_id, entry) VALUES(?, ?)");
      ins.Bind(1, id).Bind(2, e);
      if (ins.Step() != SQLITE_DONE) return Error("cannot store access list");
    }
    return LogChange(id, "put");
  }

  void BindDoc(Stmt& s, const DocumentRecord& d, int64_t now) {
    s.Bind(1, d.source_id).Bind(2, d.external_id).Bind(3, d.title).Bind(4, d.url).Bind(5, d.language)
        .Bind(6, d.content_hash).Bind(7, d.author).Bind(8, d.content).Bind(9, d.metadata_json)
        .Bind(10, d.created_at).Bind(11, d.updated_at ? d.updated_at : now).Bind(12, now);
  }

  Result<AccessList> GetAccess(int64_t id) { return GetAccessOn(w_, id); }
  Result<AccessList> GetAccessOn(Conn& c, int64_t id) {
    Stmt q = c.Prepare("SELECT entry FROM access WHERE document_id = ? ORDER BY entry");
    q.Bind(1, id);
    AccessList out;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) out.push_back(q.Text(0));
    if (rc != SQLITE_DONE) return ErrorOn(c.db, "cannot read access list");
    return out;
  }

  ChunkRecord ReadChunk(Stmt& q) {
    ChunkRecord c;
    c.id = q.Int(0);
    c.document_id = q.Int(1);
    c.ordinal = static_cast<int32_t>(q.Int(2));
    c.begin = static_cast<uint32_t>(q.Int(3));
    c.end = static_cast<uint32_t>(q.Int(4));
    c.heading_path = q.Text(5);
    c.language = q.Text(6);
    c.tokens = static_cast<int32_t>(q.Int(7));
    return c;
  }

  Status LogChange(int64_t id, const char* op) {
    Stmt ins = Prepare("INSERT INTO changes(document_id, op, at) VALUES(?, ?, ?)");
    ins.Bind(1, id).Bind(2, std::string(op)).Bind(3, NowSeconds());
    if (ins.Step() != SQLITE_DONE) return Error("cannot append to the change log");
    return Status::Ok();
  }

  Status Migrate() {
    int64_t version = 0;
    {
      Stmt q = Prepare("PRAGMA user_version");
      if (q.Step() != SQLITE_ROW) return Error("cannot read schema version");
      version = q.Int(0);
    }
    const int64_t latest = sizeof(kMigrations) / sizeof(kMigrations[0]);
    if (version > latest)
      return Status(ErrorKind::kUnsupported, "store " + path_ + " has schema version " +
                                                 std::to_string(version) + ", newer than this savoir (" +
                                                 std::to_string(latest) + ")");
    for (int64_t v = version; v < latest; ++v) {
      SAVOIR_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
      Status st = Exec(kMigrations[v]);
      if (st.ok()) st = Exec("PRAGMA user_version = " + std::to_string(v + 1));
      if (!st.ok()) {
        (void)Exec("ROLLBACK");
        return st;
      }
      SAVOIR_RETURN_IF_ERROR(Exec("COMMIT"));
    }
    return Status::Ok();
  }

  Stmt Prepare(const char* sql) { return w_.Prepare(sql); }

  Status Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(w_.db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "unknown error";
      sqlite3_free(err);
      int code = sqlite3_errcode(w_.db);
      ErrorKind kind = (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) ? ErrorKind::kCorrupt : ErrorKind::kIo;
      return Status(kind, "store " + path_ + ": " + msg);
    }
    return Status::Ok();
  }

  Status ErrorOn(sqlite3* db, const std::string& what) {
    int code = sqlite3_errcode(db);
    ErrorKind kind = (code == SQLITE_NOTADB || code == SQLITE_CORRUPT) ? ErrorKind::kCorrupt : ErrorKind::kIo;
    return Status(kind, what + " (" + path_ + ": " + sqlite3_errmsg(db) + ")");
  }
  Status Error(const std::string& what) { return ErrorOn(w_.db, what); }

  // Holds the writer connection; remembers which thread does, so that its
  // reads go through the same connection (and see its open transaction).
  class WriterLock {
   public:
    explicit WriterLock(SqliteStore* s) : s_(s) {
      s_->mu_.lock();
      if (s_->depth_++ == 0) s_->owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
    }
    ~WriterLock() {
      if (--s_->depth_ == 0) s_->owner_.store(std::thread::id(), std::memory_order_relaxed);
      s_->mu_.unlock();
    }
    WriterLock(const WriterLock&) = delete;
    WriterLock& operator=(const WriterLock&) = delete;

   private:
    SqliteStore* s_;
  };

  // A read-only connection from the pool (opened on first need, at most
  // max_readers_; a caller waits when all are busy), or null when none could
  // be opened (the caller then reads through the writer).
  std::unique_ptr<Conn> AcquireReader() {
    std::unique_lock<std::mutex> lock(pool_mu_);
    for (;;) {
      if (!free_readers_.empty()) {
        auto c = std::move(free_readers_.back());
        free_readers_.pop_back();
        return c;
      }
      if (open_readers_ < max_readers_) break;
      pool_cv_.wait(lock);
    }
    ++open_readers_;
    lock.unlock();
    auto c = std::make_unique<Conn>();
    bool ok = sqlite3_open_v2(path_.c_str(), &c->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) ==
              SQLITE_OK;
    if (ok) {
      sqlite3_busy_timeout(c->db, 10000);
      // A small page cache each (256 KB): the OS caches the file for all of
      // them. (Mapping the file instead measured no faster, and counted
      // the file once per connection in the RSS.)
      ok = sqlite3_exec(c->db, "PRAGMA cache_size=-256", nullptr, nullptr, nullptr) == SQLITE_OK;
    }
    if (!ok) {
      std::lock_guard<std::mutex> relock(pool_mu_);
      --open_readers_;
      pool_cv_.notify_one();
      return nullptr;
    }
    return c;
  }
  // Keeps at most kIdleReaders open when idle. As many as the server has
  // threads: closing and reopening connections under load (a cap of 4 or 16
  // at 100 wrk connections) cost 15-20 % more CPU per request.
  void ReleaseReader(std::unique_ptr<Conn> c) {
    {
      std::lock_guard<std::mutex> lock(pool_mu_);
      if (free_readers_.size() < kIdleReaders) {
        free_readers_.push_back(std::move(c));
      } else {
        --open_readers_;
      }
    }
    pool_cv_.notify_one();
    c.reset();  // closed outside the lock (null when pooled)
  }
  static constexpr size_t kIdleReaders = 256;

  // Runs `f(Conn&)` on a pooled reader, or on the writer connection when this
  // thread is inside a write (or no reader could be opened).
  template <typename F>
  auto Read(F&& f) -> decltype(f(std::declval<Conn&>())) {
    if (owner_.load(std::memory_order_relaxed) != std::this_thread::get_id()) {
      if (auto c = AcquireReader()) {
        auto result = f(*c);
        ReleaseReader(std::move(c));
        return result;
      }
    }
    WriterLock lock(this);
    return f(w_);
  }

  const std::string path_;
  Conn w_;  // the writer connection
  std::recursive_mutex mu_;
  int depth_ = 0;  // WriterLock nesting, under mu_
  std::atomic<std::thread::id> owner_{};

  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<Conn>> free_readers_;
  size_t open_readers_ = 0, max_readers_ = 4;
};

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path) {
  auto store = std::make_unique<SqliteStore>(path);
  SAVOIR_RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace savoir
