#include "connectors/sync.h"

#include <algorithm>
#include <chrono>
#include <exception>

#include "ingest/parse/doc_builder.h"
#include "ingest/parse/parser.h"

namespace savoir {
namespace {

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

AccessList Sorted(AccessList a) {
  std::sort(a.begin(), a.end());
  a.erase(std::unique(a.begin(), a.end()), a.end());
  return a;
}

// Plain text keeps its paragraphs ("\n\n"-separated) as blocks so chunks
// break between messages rather than inside one.
ParsedDocument FromText(const std::string& text) {
  parse::DocBuilder b("text");
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find("\n\n", pos);
    if (end == std::string::npos) end = text.size();
    b.Add(BlockKind::kParagraph, std::string_view(text).substr(pos, end - pos));
    pos = end + 2;
  }
  return b.Finish();
}

class BatchWriter {
 public:
  BatchWriter(Store& store, int64_t source, const ConnectorSyncOptions& opt, ConnectorSyncSummary* summary)
      : store_(store), source_(source), opt_(opt), summary_(summary) {}

  Status Write(ConnectorBatch& batch) {
    // Parsing happens before the transaction: it is the slow part, and a
    // document that fails to parse is reported, not fatal.
    std::vector<std::pair<ConnectorDocument*, ParsedDocument>> ready;
    for (auto& d : batch.upserts) {
      ++summary_->seen;
      if (d.acl.empty()) {
        summary_->errors.push_back(d.external_id + ": empty access list, not stored");
        continue;
      }
      if (d.parsed) {
        ready.emplace_back(&d, std::move(*d.parsed));
      } else if (!d.bytes.empty()) {
        auto parsed = ParseBytes(d.bytes, d.file_name);
        if (!parsed.ok()) {
          summary_->errors.push_back(d.external_id + ": " + parsed.status().message());
          continue;
        }
        ready.emplace_back(&d, std::move(parsed).value());
      } else {
        ready.emplace_back(&d, FromText(d.text));
      }
    }
    for (auto& e : batch.errors) summary_->errors.push_back(e);
    return store_.InTransaction([&]() -> Status {
      for (auto& [d, parsed] : ready) SAVOIR_RETURN_IF_ERROR(Upsert(*d, std::move(parsed)));
      for (const auto& ext : batch.deletions) {
        SAVOIR_ASSIGN_OR_RETURN(auto existing, store_.FindDocument(source_, ext));
        if (!existing) continue;
        SAVOIR_RETURN_IF_ERROR(store_.DeleteDocument(existing->id));
        ++summary_->removed;
      }
      for (const auto& change : batch.access_changes) SAVOIR_RETURN_IF_ERROR(ApplyAccess(change));
      if (!batch.item_states.empty())
        SAVOIR_RETURN_IF_ERROR(store_.PutItemStates(source_, batch.item_run, batch.item_states));
      if (batch.prune_items) SAVOIR_RETURN_IF_ERROR(store_.PruneItemStates(source_, batch.item_run));
      return store_.SetCheckpoint(source_, batch.checkpoint);
    });
  }

 private:
  Status Upsert(ConnectorDocument& d, ParsedDocument parsed) {
    std::string hash = ConnectorDocumentHash(d);
    SAVOIR_ASSIGN_OR_RETURN(auto existing, store_.FindDocument(source_, d.external_id));
    if (existing && existing->content_hash == hash && Sorted(existing->acl) == Sorted(d.acl)) {
      ++summary_->unchanged;
      return Status::Ok();
    }
    SourceDocument doc;
    doc.external_id = d.external_id;
    doc.url = d.url;
    doc.parsed = std::move(parsed);
    if (!d.title.empty()) doc.parsed.title = d.title;
    if (!d.author.empty()) doc.parsed.author = d.author;
    if (d.created_at) doc.parsed.created_at = d.created_at;
    doc.acl = d.acl;
    doc.updated_at = d.updated_at;
    doc.content_hash = hash;
    doc.metadata_json = d.metadata_json;
    SAVOIR_RETURN_IF_ERROR(IngestDocument(store_, source_, doc, opt_.ingest));
    existing ? ++summary_->updated : ++summary_->added;
    return Status::Ok();
  }

  Status ApplyAccess(const AccessChange& change) {
    if (change.acl.empty()) return Status::Ok();
    AccessList want = Sorted(change.acl);
    SAVOIR_ASSIGN_OR_RETURN(auto docs, store_.ListDocuments(source_));
    for (const auto& [ext, id] : docs) {
      if (ext.compare(0, change.prefix.size(), change.prefix) != 0) continue;
      SAVOIR_ASSIGN_OR_RETURN(DocumentRecord doc, store_.GetDocument(id));
      if (Sorted(doc.acl) == want) continue;
      SAVOIR_ASSIGN_OR_RETURN(auto chunks, store_.GetChunks(id));
      doc.acl = want;
      SAVOIR_RETURN_IF_ERROR(store_.PutDocument(&doc, &chunks));
      ++summary_->updated;
    }
    return Status::Ok();
  }

  Store& store_;
  int64_t source_;
  const ConnectorSyncOptions& opt_;
  ConnectorSyncSummary* summary_;
};

}  // namespace

std::string ConnectorDocumentHash(const ConnectorDocument& d) {
  std::string all;
  for (const std::string* part : {&d.title, &d.url, &d.author, &d.text, &d.bytes, &d.metadata_json}) {
    all += std::to_string(part->size());
    all += ':';
    all += *part;
  }
  all += std::to_string(d.created_at) + ":" + std::to_string(d.updated_at);
  return ContentHash(all);
}

Status SyncConnector(Store& store, int64_t source_id, Connector& connector,
                     const ConnectorSyncOptions& options, ConnectorSyncSummary* summary) {
  SyncStatus status;
  status.last_attempt = Now();
  SAVOIR_ASSIGN_OR_RETURN(SyncStatus previous, store.GetSyncStatus(source_id));
  status.last_success = previous.last_success;

  BatchWriter writer(store, source_id, options, summary);
  SyncContext ctx;
  ctx.source_id = source_id;
  ctx.item_state = [&store, source_id](const std::string& key) { return store.GetItemState(source_id, key); };
  bool interrupted = false;
  ctx.emit = [&](ConnectorBatch& batch) -> Status {
    if (options.cancelled && options.cancelled()) {
      interrupted = true;
      return Status(ErrorKind::kUnavailable, "sync interrupted: the server is stopping");
    }
    SAVOIR_RETURN_IF_ERROR(writer.Write(batch));
    return options.after_batch ? options.after_batch(*summary) : Status::Ok();
  };
  Status st = [&]() -> Status {
    SAVOIR_ASSIGN_OR_RETURN(auto stored, store.ListDocuments(source_id));
    for (auto& [ext, id] : stored) ctx.stored.emplace(std::move(ext), id);
    SAVOIR_ASSIGN_OR_RETURN(std::string checkpoint, store.GetCheckpoint(source_id));
    // A connector reads what remote servers send; a reading bug it still
    // has (an exception from a payload of an unexpected shape) fails this
    // run with its message instead of ending the process (the server's
    // scheduler runs syncs on its own threads). What was committed stays.
    try {
      return connector.Run(checkpoint, ctx);
    } catch (const std::exception& e) {
      return Status(ErrorKind::kInternal, std::string("the connector stopped on unexpected data: ") + e.what());
    }
  }();
  if (!st.ok()) summary->errors.push_back(st.message());
  int64_t end = Now();
  if (st.ok()) status.last_success = end;
  status.next_run = interrupted ? end : options.interval_seconds > 0 ? end + options.interval_seconds : 0;  // 0: manual only
  status.documents_seen = static_cast<int64_t>(summary->seen);
  status.errors = summary->errors;
  Status recorded = store.RecordSyncStatus(source_id, status);
  SAVOIR_RETURN_IF_ERROR(st);
  return recorded;
}

}  // namespace savoir
