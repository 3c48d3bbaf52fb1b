#include "embed/pipeline.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "common/file.h"

namespace savoir {
namespace {

constexpr char kStateMagic[8] = {'S', 'V', 'V', 'E', 'C', 'S', '1', '\n'};

std::string Hex(const unsigned char* p, size_t n) {
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s.push_back(hex[p[i] >> 4]);
    s.push_back(hex[p[i] & 15]);
  }
  return s;
}

template <typename T>
void Put(std::string* out, T v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(v));
}
template <typename T>
bool Get(std::string_view* in, T* v) {
  if (in->size() < sizeof(T)) return false;
  std::memcpy(v, in->data(), sizeof(T));
  in->remove_prefix(sizeof(T));
  return true;
}

// A queue of at most `capacity` items: the producer waits when it is full.
template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(std::max<size_t>(1, capacity)) {}
  // False when the consumer gave up (Close).
  bool Push(T item) {
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [&] { return q_.size() < capacity_ || closed_; });
    if (closed_) return false;
    q_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }
  // nullopt once closed and drained.
  std::optional<T> Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait(lock, [&] { return !q_.empty() || done_ || closed_; });
    if (q_.empty() || closed_) return std::nullopt;
    T item = std::move(q_.front());
    q_.pop_front();
    not_full_.notify_one();
    return item;
  }
  void Finish() {  // producer: no more items
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    not_empty_.notify_all();
  }
  void Close() {  // consumer: stop producing
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    not_full_.notify_all();
    not_empty_.notify_all();
  }

 private:
  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<T> q_;
  bool done_ = false, closed_ = false;
};

// What the reader thread hands the embedding thread: whole documents.
struct DocWork {
  int64_t doc_id = 0;
  std::vector<int64_t> chunk_ids;       // empty: deleted (or no chunks)
  std::vector<std::string> texts, hashes;
  std::vector<std::vector<float>> cached;  // per chunk; empty when not cached
};
struct Batch {
  std::vector<DocWork> docs;
  size_t chunks = 0;
  bool last = false;  // the last batch of this catch-up
};

Result<std::unique_ptr<VectorIndex>> OpenIndex(const EmbedPipelineOptions& o, const std::string& dir,
                                               const VectorIndexOptions& io) {
  if (o.opener) return o.opener(dir, io);
  return VectorIndex::Open(dir, io);
}

}  // namespace

std::string SanitizeModelId(const std::string& id) {
  std::string out;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '-' || c == '_';
    if (out.size() < 80) out.push_back(ok ? c : '_');
  }
  unsigned char h[4];
  crypto_generichash(h, sizeof(h), reinterpret_cast<const unsigned char*>(id.data()), id.size(), nullptr, 0);
  return out + "-" + Hex(h, sizeof(h));
}

std::string EmbeddingText(const DocumentRecord& doc, std::string_view chunk_text, const std::string& heading_path) {
  std::string t;
  if (!doc.title.empty()) t += doc.title + "\n";
  if (!heading_path.empty() && heading_path != doc.title) t += heading_path + "\n";
  t.append(chunk_text);
  return t;
}

std::string TextHash(std::string_view text) {
  unsigned char out[16];
  crypto_generichash(out, sizeof(out), reinterpret_cast<const unsigned char*>(text.data()), text.size(), nullptr, 0);
  return std::string(reinterpret_cast<const char*>(out), sizeof(out));
}

// ---------------------------------------------------------------- VectorSpace

Result<std::unique_ptr<VectorSpace>> VectorSpace::Open(const std::string& dir, std::shared_ptr<Embedder> embedder,
                                                       const EmbedPipelineOptions& options) {
  if (!embedder) return Status(ErrorKind::kInvalidArgument, "a vector space needs an embedder");
  std::unique_ptr<VectorSpace> s(new VectorSpace());
  s->dir_ = dir;
  s->model_id_ = embedder->model_id();
  s->embedder_ = std::move(embedder);
  s->options_ = options;
  SAVOIR_RETURN_IF_ERROR(MakeDirs(dir));
  VectorIndexOptions io = options.index;
  io.dimensions = s->embedder_->dimensions();
  auto index = OpenIndex(options, dir + "/index", io);
  if (!index.ok()) {
    // Derived data: a damaged index, or one in an older format or another
    // storage than configured, is rebuilt from the store.
    if (index.status().kind() != ErrorKind::kCorrupt && index.status().kind() != ErrorKind::kUnsupported)
      return index.status();
    std::error_code ec;
    std::filesystem::remove_all(dir + "/index", ec);
    std::filesystem::remove(dir + "/STATE", ec);
    std::filesystem::remove(dir + "/PENDING", ec);
    index = OpenIndex(options, dir + "/index", io);
    if (!index.ok()) return index.status();
  }
  s->index_ = std::move(index).value();
  SAVOIR_RETURN_IF_ERROR(s->LoadState());
  SAVOIR_RETURN_IF_ERROR(s->Recover());
  return s;
}

VectorSpace::~VectorSpace() = default;

EmbedCounters VectorSpace::counters() const {
  std::lock_guard<std::mutex> lock(counters_mu_);
  return counters_;
}

// STATE: magic, generation, applied_seq, model id, then (doc id, n, chunk
// ids...) per document. Written atomically after the vectors are committed.
Status VectorSpace::WriteState(int64_t seq) const {
  std::string out(kStateMagic, sizeof(kStateMagic));
  Put<uint64_t>(&out, ++generation_);
  Put<int64_t>(&out, seq);
  Put<uint32_t>(&out, static_cast<uint32_t>(model_id_.size()));
  out += model_id_;
  Put<uint64_t>(&out, doc_chunks_.size());
  for (const auto& [doc, chunks] : doc_chunks_) {
    Put<int64_t>(&out, doc);
    Put<uint32_t>(&out, static_cast<uint32_t>(chunks.size()));
    for (int64_t c : chunks) Put<int64_t>(&out, c);
  }
  return WriteFileAtomic(dir_ + "/STATE", out);
}

Status VectorSpace::LoadState() {
  doc_chunks_.clear();
  chunk_owner_.clear();
  applied_seq_ = 0;
  generation_ = 0;
  std::error_code ec;
  if (!std::filesystem::exists(dir_ + "/STATE", ec)) {
    // No state but vectors: they cannot be attributed to documents; start over.
    if (index_->size() > 0) return Status(ErrorKind::kCorrupt, dir_ + " has vectors but no STATE");
    return Status::Ok();
  }
  SAVOIR_ASSIGN_OR_RETURN(std::string data, ReadFile(dir_ + "/STATE"));
  std::string_view in(data);
  auto bad = [&] { return Status(ErrorKind::kCorrupt, dir_ + "/STATE is damaged"); };
  if (in.substr(0, sizeof(kStateMagic)) != std::string_view(kStateMagic, sizeof(kStateMagic))) return bad();
  in.remove_prefix(sizeof(kStateMagic));
  uint64_t gen = 0, ndocs = 0;
  int64_t seq = 0;
  uint32_t idlen = 0;
  if (!Get(&in, &gen) || !Get(&in, &seq) || !Get(&in, &idlen) || in.size() < idlen) return bad();
  std::string id(in.substr(0, idlen));
  in.remove_prefix(idlen);
  if (id != model_id_)
    return Status(ErrorKind::kCorrupt, dir_ + " holds vectors of model " + id + ", not " + model_id_);
  if (!Get(&in, &ndocs)) return bad();
  for (uint64_t i = 0; i < ndocs; ++i) {
    int64_t doc = 0;
    uint32_t n = 0;
    if (!Get(&in, &doc) || !Get(&in, &n) || in.size() < size_t(n) * 8) return bad();
    auto& v = doc_chunks_[doc];
    for (uint32_t j = 0; j < n; ++j) {
      int64_t c = 0;
      Get(&in, &c);
      v.push_back(c);
      chunk_owner_[c] = doc;
    }
  }
  generation_ = gen;
  applied_seq_ = seq;
  return Status::Ok();
}

bool VectorSpace::Stale() const {
  // Only the header: the magic and the generation.
  std::ifstream in(dir_ + "/STATE", std::ios::binary);
  char head[sizeof(kStateMagic) + 8];
  if (!in.read(head, sizeof(head))) return generation_ != 0;  // gone: reload
  uint64_t gen = 0;
  std::memcpy(&gen, head + sizeof(kStateMagic), 8);
  return gen != generation_;
}

// PENDING lists the chunk ids a commit was touching when the process died:
// those the state does not attribute to a document are removed (the replay
// from the state's position adds back whatever the store still has).
Status VectorSpace::Recover() {
  std::error_code ec;
  if (!std::filesystem::exists(dir_ + "/PENDING", ec)) return Status::Ok();
  SAVOIR_ASSIGN_OR_RETURN(std::string data, ReadFile(dir_ + "/PENDING"));
  std::vector<int64_t> orphans;
  for (size_t i = 0; i + 8 <= data.size(); i += 8) {
    int64_t c = 0;
    std::memcpy(&c, data.data() + i, 8);
    if (!chunk_owner_.count(c) && index_->Contains(c)) orphans.push_back(c);
  }
  if (!orphans.empty()) {
    SAVOIR_RETURN_IF_ERROR(index_->Remove(orphans));
    SAVOIR_RETURN_IF_ERROR(index_->Commit());
  }
  std::filesystem::remove(dir_ + "/PENDING", ec);
  return Status::Ok();
}

Status VectorSpace::CommitBatch(const std::vector<int64_t>& touched_ids, int64_t seq) {
  std::string pending;
  for (int64_t c : touched_ids) Put<int64_t>(&pending, c);
  SAVOIR_RETURN_IF_ERROR(WriteFileAtomic(dir_ + "/PENDING", pending));
  SAVOIR_RETURN_IF_ERROR(index_->Commit());
  SAVOIR_RETURN_IF_ERROR(WriteState(seq));
  applied_seq_ = seq;
  std::error_code ec;
  std::filesystem::remove(dir_ + "/PENDING", ec);
  return Status::Ok();
}

Status VectorSpace::CatchUp(Store& store, const EmbedProgressFn& progress, const std::atomic<bool>* stop) {
  SAVOIR_ASSIGN_OR_RETURN(int64_t last, store.LastChangeSeq());
  const int64_t applied = applied_seq_.load();
  // Nothing to apply: a commit with no changes still adopts a compaction
  // whose graph has been built in the background meanwhile (through
  // CommitBatch, whose new STATE generation tells other processes to reload).
  if (applied >= last) return index_->Stats().compacting ? CommitBatch({}, applied) : Status::Ok();

  // Documents changed since the position (every document for a new space).
  SAVOIR_ASSIGN_OR_RETURN(std::vector<int64_t> touched,
                          DocumentsToRevisit(store, applied, applied == 0 && doc_chunks_.empty(), last));
  const size_t batch_size = std::max<size_t>(1, embedder_->max_batch());
  const std::string model = model_id_;

  // Reader: documents -> chunk texts -> cache lookups, into the queue.
  BoundedQueue<Batch> queue(options_.queue_batches);
  Status reader_status;
  std::thread reader([&] {
    Batch b;
    auto flush_lookups = [&]() -> Status {
      std::vector<std::string> hashes;
      for (auto& d : b.docs) hashes.insert(hashes.end(), d.hashes.begin(), d.hashes.end());
      SAVOIR_ASSIGN_OR_RETURN(auto cached, store.GetEmbeddings(model, hashes));
      size_t k = 0;
      for (auto& d : b.docs)
        for (size_t i = 0; i < d.hashes.size(); ++i) d.cached.push_back(std::move(cached[k++]));
      return Status::Ok();
    };
    for (size_t i = 0; i < touched.size(); ++i) {
      DocWork w;
      w.doc_id = touched[i];
      auto doc = store.GetDocument(w.doc_id);
      if (doc.ok()) {
        auto chunks = store.GetChunks(w.doc_id);
        if (!chunks.ok()) {
          reader_status = chunks.status();
          break;
        }
        for (const auto& c : *chunks) {
          std::string_view text = std::string_view(doc->content).substr(c.begin, c.end - c.begin);
          w.chunk_ids.push_back(c.id);
          w.texts.push_back(EmbeddingText(*doc, text, c.heading_path));
          w.hashes.push_back(TextHash(w.texts.back()));
        }
      } else if (doc.status().kind() != ErrorKind::kNotFound) {
        reader_status = doc.status();
        break;
      }
      b.chunks += w.chunk_ids.size();
      b.docs.push_back(std::move(w));
      bool last_doc = i + 1 == touched.size();
      if (b.chunks >= batch_size || b.docs.size() >= 256 || last_doc) {
        if (Status st = flush_lookups(); !st.ok()) {
          reader_status = st;
          break;
        }
        b.last = last_doc;
        if (!queue.Push(std::move(b))) break;
        b = Batch();
      }
    }
    queue.Finish();
  });

  // Embedding thread (this one): misses embedded, cache filled, vectors
  // added, documents' old vectors removed; commits every commit_every chunks
  // (keeping the old position until the last one).
  Status st;
  size_t done = 0, docs_done = 0, since_commit = 0;
  std::vector<int64_t> touched_chunks;
  bool finished = false;
  while (auto item = queue.Pop()) {
    Batch& b = *item;
    // Removals first: a chunk id freed by one document may be reused by the next.
    std::vector<int64_t> remove;
    for (auto& d : b.docs) {
      std::unordered_set<int64_t> keep(d.chunk_ids.begin(), d.chunk_ids.end());
      auto it = doc_chunks_.find(d.doc_id);
      if (it != doc_chunks_.end()) {
        for (int64_t c : it->second) {
          auto o = chunk_owner_.find(c);
          if (o != chunk_owner_.end() && o->second == d.doc_id) {
            chunk_owner_.erase(o);
            if (!keep.count(c)) remove.push_back(c);
          }
        }
        doc_chunks_.erase(it);
      }
    }
    // Misses embedded in batches of max_batch.
    std::vector<std::string> miss_texts, miss_hashes;
    std::vector<std::vector<float>*> miss_slots;
    for (auto& d : b.docs)
      for (size_t i = 0; i < d.chunk_ids.size(); ++i)
        if (d.cached[i].empty() || static_cast<int>(d.cached[i].size()) != embedder_->dimensions()) {
          miss_texts.push_back(d.texts[i]);
          miss_hashes.push_back(d.hashes[i]);
          miss_slots.push_back(&d.cached[i]);
        }
    size_t embed_calls = 0;
    for (size_t i = 0; i < miss_texts.size() && st.ok(); i += batch_size) {
      size_t n = std::min(batch_size, miss_texts.size() - i);
      std::vector<std::string> texts(miss_texts.begin() + i, miss_texts.begin() + i + n);
      // No lock here: embedders are thread-safe, and a local one lets a
      // search's query embedding go between two forward passes of this call.
      Result<std::vector<std::vector<float>>> vecs = embedder_->Embed(texts, EmbedKind::kPassage);
      ++embed_calls;
      if (!vecs.ok()) {
        st = Status(vecs.status().kind(), "embedding with " + model + ": " + vecs.status().message());
        break;
      }
      if (vecs->size() != n) {
        st = Status(ErrorKind::kInternal, "embedder " + model + " returned " + std::to_string(vecs->size()) +
                                              " vectors for " + std::to_string(n) + " texts");
        break;
      }
      std::vector<std::string> hs(miss_hashes.begin() + i, miss_hashes.begin() + i + n);
      st = store.PutEmbeddings(model, hs, *vecs);
      for (size_t j = 0; j < n && st.ok(); ++j) *miss_slots[i + j] = std::move((*vecs)[j]);
    }
    if (!st.ok()) break;
    // Vectors into the index.
    std::vector<int64_t> ids;
    std::vector<float> flat;
    const int dims = embedder_->dimensions();
    for (auto& d : b.docs) {
      for (size_t i = 0; i < d.chunk_ids.size(); ++i) {
        if (static_cast<int>(d.cached[i].size()) != dims) {
          st = Status(ErrorKind::kInternal, "embedder " + model + " returned a vector of " +
                                                std::to_string(d.cached[i].size()) + " dimensions, expected " +
                                                std::to_string(dims));
          break;
        }
        ids.push_back(d.chunk_ids[i]);
        flat.insert(flat.end(), d.cached[i].begin(), d.cached[i].end());
        // A chunk id reused from another document changes owner.
        if (auto o = chunk_owner_.find(d.chunk_ids[i]); o != chunk_owner_.end()) {
          auto& v = doc_chunks_[o->second];
          v.erase(std::remove(v.begin(), v.end(), d.chunk_ids[i]), v.end());
        }
        chunk_owner_[d.chunk_ids[i]] = d.doc_id;
      }
      if (!st.ok()) break;
      if (!d.chunk_ids.empty()) doc_chunks_[d.doc_id] = d.chunk_ids;
    }
    if (!st.ok()) break;
    if (!remove.empty()) st = index_->Remove(remove);
    if (st.ok() && !ids.empty()) st = index_->Add(ids, flat);
    if (!st.ok()) break;
    touched_chunks.insert(touched_chunks.end(), remove.begin(), remove.end());
    touched_chunks.insert(touched_chunks.end(), ids.begin(), ids.end());
    {
      std::lock_guard<std::mutex> lock(counters_mu_);
      counters_.chunks += ids.size();
      counters_.cache_hits += ids.size() - miss_texts.size();
      counters_.embedded += miss_texts.size();
      counters_.embed_calls += embed_calls;
      counters_.removed += remove.size();
    }
    done += ids.size();
    since_commit += ids.size() + remove.size();
    bool stopping = stop && stop->load();
    if (b.last || since_commit >= options_.commit_every || stopping) {
      st = CommitBatch(touched_chunks, b.last ? last : applied);
      touched_chunks.clear();
      since_commit = 0;
      if (!st.ok()) break;
      if (b.last) finished = true;
    }
    docs_done += b.docs.size();
    if (progress) progress(docs_done, touched.size());
    if (stopping) break;
  }
  queue.Close();
  reader.join();
  if (!st.ok()) return st;
  if (!reader_status.ok()) return reader_status;
  if (touched.empty()) SAVOIR_RETURN_IF_ERROR(CommitBatch({}, last));
  (void)finished;
  return Status::Ok();
}

Status VectorSpace::FinishCompaction() {
  if (!index_->Stats().compacting) return Status::Ok();
  SAVOIR_RETURN_IF_ERROR(index_->FinishCompaction());
  // A new epoch replaced the files: a new STATE generation makes other
  // processes holding the old ones reload instead of appending to them.
  return WriteState(applied_seq_.load());
}

Result<std::vector<VectorHit>> VectorSpace::Search(const std::string& query, size_t k, const Roaring* allowed) const {
  Result<std::vector<std::vector<float>>> v = embedder_->Embed({query}, EmbedKind::kQuery);
  if (!v.ok()) return Status(v.status().kind(), "embedding the query with " + model_id_ + ": " + v.status().message());
  if (v->size() != 1 || static_cast<int>((*v)[0].size()) != index_->dimensions())
    return Status(ErrorKind::kInternal, "embedder " + model_id_ + " returned no usable query vector");
  return index_->Search((*v)[0].data(), k, allowed);
}

// ---------------------------------------------------------- EmbeddingPipeline

Result<std::unique_ptr<EmbeddingPipeline>> EmbeddingPipeline::Open(const std::string& vectors_dir,
                                                                   std::shared_ptr<Embedder> embedder,
                                                                   const std::string& spec_json,
                                                                   const EmbedderFromSpec& from_spec,
                                                                   const EmbedPipelineOptions& options) {
  if (!embedder) return Status(ErrorKind::kInvalidArgument, "the embedding pipeline needs an embedder");
  std::unique_ptr<EmbeddingPipeline> p(new EmbeddingPipeline());
  p->dir_ = vectors_dir;
  p->embedder_ = std::move(embedder);
  p->spec_json_ = spec_json;
  p->from_spec_ = from_spec;
  p->options_ = options;
  SAVOIR_RETURN_IF_ERROR(MakeDirs(vectors_dir));
  p->lock_fd_ = ::open((vectors_dir + "/LOCK").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (p->lock_fd_ < 0) return Status(ErrorKind::kIo, "cannot open " + vectors_dir + "/LOCK");
  SAVOIR_RETURN_IF_ERROR(p->Load());
  return p;
}

EmbeddingPipeline::~EmbeddingPipeline() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Status EmbeddingPipeline::Load() {
  std::string current;
  if (auto c = ReadFile(dir_ + "/CURRENT"); c.ok()) {
    current = *c;
    while (!current.empty() && (current.back() == '\n' || current.back() == ' ')) current.pop_back();
  }
  const std::string mine = SanitizeModelId(embedder_->model_id());
  std::shared_ptr<VectorSpace> serving, building;
  std::error_code ec;
  if (!current.empty() && current == mine) {
    SAVOIR_ASSIGN_OR_RETURN(serving, VectorSpace::Open(dir_ + "/" + mine, embedder_, options_));
  } else {
    if (!current.empty() && std::filesystem::exists(dir_ + "/" + current, ec)) {
      // The old model keeps serving while the new one builds, when its
      // embedder can still be made from the spec saved with it.
      auto spec = ReadFile(dir_ + "/" + current + "/embedder.json");
      if (spec.ok() && from_spec_) {
        auto old = from_spec_(*spec);
        if (old.ok() && *old) {
          auto space = VectorSpace::Open(dir_ + "/" + current, std::shared_ptr<Embedder>(std::move(old).value()),
                                         options_);
          if (space.ok()) serving = std::move(space).value();
          else std::fprintf(stderr, "savoir: previous vector index %s unusable: %s\n", current.c_str(),
                            space.status().ToString().c_str());
        } else if (!old.ok()) {
          std::fprintf(stderr, "savoir: previous embedding model unavailable (%s); keyword search until %s is built\n",
                       old.status().message().c_str(), embedder_->model_id().c_str());
        }
      }
    }
    SAVOIR_ASSIGN_OR_RETURN(building, VectorSpace::Open(dir_ + "/" + mine, embedder_, options_));
    SAVOIR_RETURN_IF_ERROR(WriteFileAtomic(dir_ + "/" + mine + "/embedder.json", spec_json_));
  }
  std::lock_guard<std::mutex> lock(mu_);
  serving_ = std::move(serving);
  building_ = std::move(building);
  loaded_current_ = current;
  return Status::Ok();
}

std::shared_ptr<const VectorSpace> EmbeddingPipeline::serving() const {
  std::lock_guard<std::mutex> lock(mu_);
  return serving_;
}

std::shared_ptr<VectorSpace> EmbeddingPipeline::building() const {
  std::lock_guard<std::mutex> lock(mu_);
  return building_;
}

Status EmbeddingPipeline::Switch(Store& store) {
  std::shared_ptr<VectorSpace> old;
  std::string name;
  {
    std::lock_guard<std::mutex> lock(mu_);
    name = SanitizeModelId(building_->model_id());
  }
  // CURRENT first (rename: atomic), then the pointer: a crash in between
  // reopens on the new model.
  SAVOIR_RETURN_IF_ERROR(WriteFileAtomic(dir_ + "/CURRENT", name + "\n"));
  {
    std::lock_guard<std::mutex> lock(mu_);
    old = std::move(serving_);
    serving_ = std::move(building_);
    loaded_current_ = name;
  }
  // Every other folder is an old model or an abandoned build. Searches still
  // holding the old space keep their mapping until they finish.
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir_, ec)) {
    if (!e.is_directory() || e.path().filename() == name) continue;
    std::filesystem::remove_all(e.path(), ec);
  }
  if (old) SAVOIR_RETURN_IF_ERROR(store.DeleteEmbeddings(old->model_id()));
  return Status::Ok();
}

// Runs `fn` as the one writer of the vectors folder (this process's
// writers serialized, other processes' kept out by flock), after picking up
// what another process switched or committed (which also drops a compaction
// this process was building over the older state).
Status EmbeddingPipeline::AsWriter(const std::function<Status()>& fn) {
  std::lock_guard<std::recursive_mutex> guard(write_mu_);
  while (::flock(lock_fd_, LOCK_EX) != 0) {
    if (errno != EINTR) return Status(ErrorKind::kIo, "cannot lock " + dir_ + "/LOCK");
  }
  struct Unlock {
    int fd;
    ~Unlock() { ::flock(fd, LOCK_UN); }
  } unlock{lock_fd_};
  std::string current;
  if (auto c = ReadFile(dir_ + "/CURRENT"); c.ok()) current = *c;
  while (!current.empty() && (current.back() == '\n' || current.back() == ' ')) current.pop_back();
  bool stale;
  {
    auto s = serving();  // released before fn(): a reloaded space goes now
    auto b = building();
    stale = current != loaded_current_ || (s && s->Stale()) || (b && b->Stale());
  }
  if (stale) SAVOIR_RETURN_IF_ERROR(Load());
  return fn();
}

Status EmbeddingPipeline::FinishCompactions() {
  // Waits for the graphs to be built without the writers' lock (a server
  // sharing the folder keeps catching up meanwhile), then adopts them.
  for (;;) {
    bool building_graph = false;
    for (const auto& space : {std::shared_ptr<const VectorSpace>(serving()), std::shared_ptr<const VectorSpace>(building())}) {
      if (!space) continue;
      VectorIndexStats st = space->index().Stats();
      building_graph = building_graph || (st.compacting && !st.compaction_built);
    }
    if (!building_graph) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return AsWriter([&]() -> Status {
    std::shared_ptr<VectorSpace> s;
    {
      std::lock_guard<std::mutex> lock(mu_);
      s = serving_;
    }
    if (s) SAVOIR_RETURN_IF_ERROR(s->FinishCompaction());
    if (auto b = building()) SAVOIR_RETURN_IF_ERROR(b->FinishCompaction());
    return Status::Ok();
  });
}

Status EmbeddingPipeline::CatchUp(Store& store, const EmbedProgressFn& progress, const std::atomic<bool>* stop) {
  return AsWriter([&] { return CatchUpLocked(store, progress, stop); });
}

Status EmbeddingPipeline::CatchUpLocked(Store& store, const EmbedProgressFn& progress, const std::atomic<bool>* stop) {
  std::shared_ptr<VectorSpace> s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s = serving_;
  }
  // A failed catch-up leaves uncommitted changes in memory: reopen from disk.
  auto reload_after = [&](Status st) -> Status {
    if (!st.ok()) (void)Load();
    return st;
  };
  if (s) SAVOIR_RETURN_IF_ERROR(reload_after(s->CatchUp(store, nullptr, stop)));
  auto b = building();
  if (!b) return Status::Ok();
  SAVOIR_RETURN_IF_ERROR(reload_after(b->CatchUp(store, progress, stop)));
  SAVOIR_ASSIGN_OR_RETURN(int64_t last, store.LastChangeSeq());
  if (b->applied_seq() >= last) return Switch(store);
  return Status::Ok();
}

VectorStatus EmbeddingPipeline::GetStatus(Store& store) const {
  VectorStatus v;
  v.enabled = true;
  int64_t last = 0;
  if (auto l = store.LastChangeSeq(); l.ok()) last = *l;
  std::shared_ptr<VectorSpace> s, b;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s = serving_;
    b = building_;
  }
  if (s) {
    v.model = s->model_id();
    v.vectors = s->size();
    v.pending = std::max<int64_t>(0, last - s->applied_seq());
  }
  if (b) {
    v.building = b->model_id();
    v.building_vectors = b->size();
    v.building_pending = std::max<int64_t>(0, last - b->applied_seq());
  }
  return v;
}

}  // namespace savoir
