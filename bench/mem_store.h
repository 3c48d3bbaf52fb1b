// An in-memory Store, for benchmarks only: lets the real ingest
// (IngestDocument: chunking + per-chunk language detection) and the real index
// builder (CatchUpIndex: AddChunkTo on every core + KeywordIndex::CommitParts)
// run without SQLite, so the index build can be timed alone.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "store/store.h"

namespace savoir::bench {

class MemStore final : public Store {
 public:
  Result<int64_t> EnsureSource(const std::string&, const std::string&, const std::string& = "{}") override {
    return int64_t{1};
  }
  Result<std::vector<SourceRecord>> ListSources() override { return std::vector<SourceRecord>{}; }
  Result<SourceRecord> GetSource(int64_t id) override {
    SourceRecord s;
    s.id = id;
    return s;
  }
  Status DeleteSource(int64_t) override { return Status(ErrorKind::kInternal, "not supported"); }
  Status SetSourceConfig(int64_t, const std::string&) override { return Status::Ok(); }
  Result<std::string> GetCheckpoint(int64_t) override { return std::string(); }
  Status SetCheckpoint(int64_t, const std::string&) override { return Status::Ok(); }
  Status RecordSyncStatus(int64_t, const SyncStatus&) override { return Status::Ok(); }
  Result<SyncStatus> GetSyncStatus(int64_t) override { return SyncStatus{}; }
  Status InTransaction(const std::function<Status()>& body) override { return body(); }
  Status PutDocument(DocumentRecord* doc, std::vector<ChunkRecord>* chunks) override {
    doc->id = static_cast<int64_t>(docs_.size()) + 1;
    for (auto& c : *chunks) {
      c.id = ++next_chunk_;
      c.document_id = doc->id;
    }
    docs_.push_back(*doc);
    chunks_.push_back(*chunks);
    ++seq_;
    return Status::Ok();
  }
  Status DeleteDocument(int64_t) override { return Status(ErrorKind::kInternal, "not supported"); }
  Result<std::optional<DocumentVersion>> FindDocument(int64_t, const std::string&) override {
    return std::optional<DocumentVersion>{};
  }
  Result<std::vector<std::pair<std::string, int64_t>>> ListDocuments(int64_t) override {
    std::vector<std::pair<std::string, int64_t>> out;
    for (const auto& d : docs_) out.emplace_back(d.external_id, d.id);
    return out;
  }
  Result<DocumentRecord> GetDocument(int64_t id) override {
    if (id < 1 || id > static_cast<int64_t>(docs_.size())) return Status(ErrorKind::kNotFound, "no doc");
    return docs_[id - 1];
  }
  Result<std::vector<ChunkRecord>> GetChunks(int64_t id) override {
    if (id < 1 || id > static_cast<int64_t>(docs_.size())) return Status(ErrorKind::kNotFound, "no doc");
    return chunks_[id - 1];
  }
  Result<ChunkRecord> GetChunk(int64_t) override { return Status(ErrorKind::kInternal, "not supported"); }
  Result<PassageRecord> GetPassage(int64_t) override { return Status(ErrorKind::kInternal, "not supported"); }
  Result<std::vector<Change>> ChangesSince(int64_t after, size_t limit) override {
    std::vector<Change> out;
    for (int64_t s = after + 1; s <= seq_ && out.size() < limit; ++s) out.push_back(Change{s, s, false});
    return out;
  }
  Result<int64_t> LastChangeSeq() override { return seq_; }
  Result<std::vector<int64_t>> AllDocumentIds() override {
    std::vector<int64_t> ids(docs_.size());
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int64_t>(i) + 1;
    return ids;
  }
  Status Verify() override { return Status::Ok(); }
  Status RecordAnswerUsage(AnswerUsageRecord*) override { return Status::Ok(); }
  Result<std::vector<AnswerUsageRecord>> ListAnswerUsage(size_t) override {
    return std::vector<AnswerUsageRecord>{};
  }
  Result<std::vector<std::vector<float>>> GetEmbeddings(const std::string&,
                                                        const std::vector<std::string>& hashes) override {
    return std::vector<std::vector<float>>(hashes.size());
  }
  Status PutEmbeddings(const std::string&, const std::vector<std::string>&,
                       const std::vector<std::vector<float>>&) override {
    return Status::Ok();
  }
  Status DeleteEmbeddings(const std::string&) override { return Status::Ok(); }
  Result<int64_t> CountEmbeddings(const std::string&) override { return int64_t{0}; }

  size_t chunk_count() const {
    size_t n = 0;
    for (const auto& c : chunks_) n += c.size();
    return n;
  }

 private:
  std::vector<DocumentRecord> docs_;
  std::vector<std::vector<ChunkRecord>> chunks_;
  int64_t seq_ = 0, next_chunk_ = 0;
};

}  // namespace savoir::bench
