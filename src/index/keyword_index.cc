#include "index/keyword_index.h"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <set>
#include <unordered_map>

#include "common/file.h"
#include "common/json_read.h"

namespace savoir {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr char kManifest[] = "MANIFEST";

std::string SerializeBitmap(const Roaring& bm) {
  Roaring copy = bm;
  copy.runOptimize();
  std::string out(copy.getSizeInBytes(true), '\0');
  copy.write(out.data(), true);
  return out;
}

void ComputeLive(SegmentView* v) {
  v->live_docs = v->segment->n_docs() - static_cast<uint32_t>(v->deleted->cardinality());
  v->live_len = v->segment->total_len();
  for (uint32_t local : *v->deleted) v->live_len -= v->segment->doc_len(local);
}

std::shared_ptr<Snapshot> Summed(std::shared_ptr<Snapshot> s) {
  s->live_docs = 0;
  s->live_len = 0;
  for (const auto& v : s->segments) {
    s->live_docs += v.live_docs;
    s->live_len += v.live_len;
  }
  return s;
}

}  // namespace

uint64_t Snapshot::DocFreq(std::string_view term) const {
  uint64_t df = 0;
  for (const auto& v : segments)
    if (auto info = v.segment->Find(term)) df += info->df;
  return df;
}

uint64_t Snapshot::FacetCount(const std::string& facet) const {
  uint64_t n = 0;
  for (const auto& v : segments) {
    const Roaring& bm = v.segment->Facet(facet);
    n += bm.cardinality() - bm.and_cardinality(*v.deleted);
  }
  return n;
}

Result<std::unique_ptr<KeywordIndex>> KeywordIndex::Open(const std::string& dir) {
  SAVOIR_RETURN_IF_ERROR(MakeDirs(dir));
  std::unique_ptr<KeywordIndex> index(new KeywordIndex(dir));
  SAVOIR_RETURN_IF_ERROR(index->Load());
  return index;
}

KeywordIndex::~KeywordIndex() { StopBackgroundMerges(); }

Status KeywordIndex::Load() {
  auto snap = std::make_shared<Snapshot>();
  std::string path = dir_ + "/" + kManifest;
  if (fs::exists(path)) {
    SAVOIR_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    json m = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (m.is_discarded() || !m.is_object() || !m.contains("segments"))
      return Status(ErrorKind::kCorrupt, "index manifest " + path + " is not valid JSON; run `savoir reindex`");
    snap->applied_seq = JsonInt(m, "applied_seq");
    generation_ = static_cast<uint64_t>(std::max<int64_t>(0, JsonInt(m, "generation")));
    next_segment_ = static_cast<uint64_t>(std::max<int64_t>(1, JsonInt(m, "next_segment", 1)));
    del_generation_ = static_cast<uint64_t>(std::max<int64_t>(1, JsonInt(m, "del_generation", 1)));
    if (!m["segments"].is_array())
      return Status(ErrorKind::kCorrupt, "index manifest " + path + " has no segment list; run `savoir reindex`");
    for (const auto& s : m["segments"]) {
      SegmentView v;
      v.name = JsonString(s, "name");
      v.del_name = JsonString(s, "del");
      // Segments never change: keep the ones already mapped.
      if (snap_) {
        for (const auto& old : snap_->segments)
          if (old.name == v.name) v.segment = old.segment;
      }
      if (!v.segment) {
        SAVOIR_ASSIGN_OR_RETURN(v.segment, Segment::Open(dir_ + "/" + v.name));
      }
      auto del = std::make_shared<Roaring>();
      if (!v.del_name.empty()) {
        SAVOIR_ASSIGN_OR_RETURN(std::string bytes, ReadFile(dir_ + "/" + v.del_name));
        try {
          *del = Roaring::readSafe(bytes.data(), bytes.size());
        } catch (const std::exception&) {
          return Status(ErrorKind::kCorrupt, "deletion file " + v.del_name + " is corrupt");
        }
        if (!del->isEmpty() && del->maximum() >= v.segment->n_docs())
          return Status(ErrorKind::kCorrupt, "deletion file " + v.del_name + " names docs its segment lacks");
      }
      v.deleted = del;
      ComputeLive(&v);
      snap->segments.push_back(std::move(v));
    }
  }
  Summed(snap);
  std::lock_guard<std::mutex> lock(snap_mu_);
  snap_ = snap;
  return Status::Ok();
}

Status KeywordIndex::Refresh() {
  std::string path = dir_ + "/" + kManifest;
  auto text = ReadFile(path);
  if (!text.ok()) return Status::Ok();  // no manifest yet: nothing committed
  json m = json::parse(*text, nullptr, false);
  if (!m.is_discarded() && m.is_object() && static_cast<uint64_t>(JsonInt(m, "generation")) == generation_)
    return Status::Ok();
  return Load();
}

Status KeywordIndex::WithWriteLock(const std::function<Status()>& body) {
  std::lock_guard<std::recursive_mutex> lock(write_mu_);
  if (lock_depth_ == 0) {
    lock_fd_ = ::open((dir_ + "/LOCK").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd_ < 0) return Status(ErrorKind::kIo, "cannot open " + dir_ + "/LOCK");
    while (::flock(lock_fd_, LOCK_EX) != 0) {
      if (errno != EINTR) {
        ::close(lock_fd_);
        return Status(ErrorKind::kIo, "cannot lock " + dir_ + "/LOCK");
      }
    }
    Status st = Refresh();
    if (st.ok()) RemoveGarbage(*snapshot());
    if (!st.ok()) {
      ::close(lock_fd_);  // releases the flock
      return st;
    }
  }
  ++lock_depth_;
  Status st = body();
  if (--lock_depth_ == 0) ::close(lock_fd_);
  return st;
}

void KeywordIndex::RemoveGarbage(const Snapshot& snap) {
  std::set<std::string> keep = {kManifest, "LOCK"};
  for (const auto& v : snap.segments) {
    keep.insert(v.name);
    if (!v.del_name.empty()) keep.insert(v.del_name);
  }
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    std::string name = e.path().filename().string();
    if (!keep.count(name) && name.rfind("seg_", 0) == 0) fs::remove(e.path(), ec);
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0) fs::remove(e.path(), ec);
  }
}

std::shared_ptr<const Snapshot> KeywordIndex::snapshot() const {
  std::lock_guard<std::mutex> lock(snap_mu_);
  return snap_;
}

std::string KeywordIndex::NextSegmentName() {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "seg_%06llu", static_cast<unsigned long long>(next_segment_++));
  return buf;
}

Status KeywordIndex::WriteManifest(const Snapshot& snap) {
  json m;
  m["version"] = 1;
  m["applied_seq"] = snap.applied_seq;
  m["generation"] = ++generation_;
  m["next_segment"] = next_segment_;
  m["del_generation"] = del_generation_;
  m["segments"] = json::array();
  for (const auto& v : snap.segments)
    m["segments"].push_back({{"name", v.name}, {"del", v.del_name}, {"docs", v.segment->n_docs()},
                             {"live", v.live_docs}});
  return WriteFileAtomic(dir_ + "/" + kManifest, m.dump(1));
}

Status KeywordIndex::Commit(const std::vector<IndexedChunk>& chunks,
                            const std::vector<int64_t>& removed_docs, int64_t applied_seq) {
  // Interning terms and collecting postings is the costly part of a commit:
  // on several cores, contiguous slices are built apart and then written as
  // one segment (the same file as one writer would build).
  const size_t n_parts =
      chunks.size() >= 4096 ? std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4) : 1;
  std::vector<SegmentWriter> parts(chunks.empty() ? 0 : n_parts);
  std::vector<std::thread> threads;
  for (size_t p = 0; p < parts.size(); ++p) {
    auto build = [&, p] {
      const size_t lo = chunks.size() * p / parts.size(), hi = chunks.size() * (p + 1) / parts.size();
      for (size_t i = lo; i < hi; ++i) parts[p].Add(chunks[i]);
    };
    if (p + 1 < parts.size()) threads.emplace_back(build);
    else build();
  }
  for (auto& t : threads) t.join();
  return CommitParts(parts, removed_docs, applied_seq);
}

Status KeywordIndex::CommitParts(const std::vector<SegmentWriter>& parts,
                                 const std::vector<int64_t>& removed_docs, int64_t applied_seq) {
  return WithWriteLock([&] { return CommitLocked(parts, removed_docs, applied_seq); });
}

Status KeywordIndex::CommitLocked(const std::vector<SegmentWriter>& parts,
                                  const std::vector<int64_t>& removed_docs, int64_t applied_seq) {
  auto old = snapshot();
  auto next = std::make_shared<Snapshot>(*old);
  next->applied_seq = applied_seq;

  // Deletions: a new bitmap file for each segment that changed.
  for (auto& v : next->segments) {
    Roaring add;
    for (int64_t doc : removed_docs)
      for (uint32_t local : v.segment->LocalsOfDocument(doc))
        if (!v.deleted->contains(local)) add.add(local);
    if (add.isEmpty()) continue;
    auto del = std::make_shared<Roaring>(*v.deleted | add);
    std::string name = v.name + ".del." + std::to_string(del_generation_++);
    SAVOIR_RETURN_IF_ERROR(WriteFileAtomic(dir_ + "/" + name, SerializeBitmap(*del)));
    v.deleted = del;
    v.del_name = name;
    ComputeLive(&v);
  }
  size_t new_docs = 0;
  for (const auto& w : parts) new_docs += w.size();
  if (new_docs > 0) {
    std::vector<const SegmentWriter*> slices;
    for (const auto& w : parts) slices.push_back(&w);
    SegmentView v;
    v.name = NextSegmentName();
    SAVOIR_RETURN_IF_ERROR(SegmentWriter::WriteParts(slices, dir_ + "/" + v.name));
    SAVOIR_ASSIGN_OR_RETURN(v.segment, Segment::Open(dir_ + "/" + v.name, /*just_written=*/true));
    v.deleted = std::make_shared<Roaring>();
    ComputeLive(&v);
    next->segments.push_back(std::move(v));
  }
  Summed(next);
  // The manifest rename is the commit point.
  SAVOIR_RETURN_IF_ERROR(WriteManifest(*next));
  {
    std::lock_guard<std::mutex> lock(snap_mu_);
    snap_ = next;
  }
  RemoveGarbage(*next);
  {
    std::lock_guard<std::mutex> lock(merger_mu_);
    merger_pending_ = true;
  }
  merger_cv_.notify_one();
  return Status::Ok();
}

Status KeywordIndex::MaybeMerge(size_t max_segments) {
  std::lock_guard<std::mutex> mlock(merge_mu_);
  // The whole merge runs as the index's writer: another process could
  // otherwise take the same segment name or collect our file as garbage.
  return WithWriteLock([&] { return MaybeMergeLocked(max_segments); });
}

Status KeywordIndex::MaybeMergeLocked(size_t max_segments) {
  auto snap = snapshot();
  std::vector<const SegmentView*> views;
  for (const auto& v : snap->segments) views.push_back(&v);
  // Segments that are mostly deleted are always worth rewriting.
  std::vector<std::string> names;
  for (const auto* v : views)
    if (v->segment->n_docs() > 0 && v->live_docs * 2 < v->segment->n_docs()) names.push_back(v->name);
  if (views.size() > max_segments) {
    std::sort(views.begin(), views.end(),
              [](auto* a, auto* b) { return a->live_docs < b->live_docs; });
    size_t take = views.size() - max_segments + 1;
    for (size_t i = 0; i < take; ++i)
      if (std::find(names.begin(), names.end(), views[i]->name) == names.end())
        names.push_back(views[i]->name);
  }
  if (names.empty()) return Status::Ok();
  return Merge(std::move(names));
}

Status KeywordIndex::MergeAll() {
  std::lock_guard<std::mutex> mlock(merge_mu_);
  return WithWriteLock([&] { return MergeAllLocked(); });
}

Status KeywordIndex::MergeAllLocked() {
  auto snap = snapshot();
  if (snap->segments.size() <= 1 &&
      (snap->segments.empty() || snap->segments[0].deleted->isEmpty()))
    return Status::Ok();
  std::vector<std::string> names;
  for (const auto& v : snap->segments) names.push_back(v.name);
  return Merge(std::move(names));
}

// Rewrites the named segments, without their deleted docs, as one segment.
Status KeywordIndex::Merge(std::vector<std::string> names) {
  auto start = snapshot();
  std::vector<const SegmentView*> sources;
  for (const auto& v : start->segments)
    if (std::find(names.begin(), names.end(), v.name) != names.end()) sources.push_back(&v);
  if (sources.empty()) return Status::Ok();

  SegmentWriter writer;
  std::vector<std::vector<uint32_t>> remap(sources.size());
  for (size_t s = 0; s < sources.size(); ++s) {
    const Segment& seg = *sources[s]->segment;
    remap[s].assign(seg.n_docs(), PostingCursor::kEnd);
    for (uint32_t l = 0; l < seg.n_docs(); ++l) {
      if (sources[s]->deleted->contains(l)) continue;
      remap[s][l] = writer.AddDoc(seg.chunk_id(l), seg.doc_id(l), seg.updated_at(l), seg.doc_len(l));
    }
  }
  std::vector<const Segment*> segments;
  for (size_t s = 0; s < sources.size(); ++s) {
    const Segment& seg = *sources[s]->segment;
    segments.push_back(&seg);
    for (const auto& [facet, bm] : seg.facets())
      for (uint32_t l : bm)
        if (remap[s][l] != PostingCursor::kEnd) writer.AddFacet(facet, remap[s][l]);
  }

  std::string name;
  SAVOIR_RETURN_IF_ERROR(WithWriteLock([&] {
    name = NextSegmentName();
    return Status::Ok();
  }));
  // The terms are merged from the sources' dictionaries as they are written.
  SAVOIR_RETURN_IF_ERROR(writer.WriteMerged(segments, remap, dir_ + "/" + name));
  SegmentView merged;
  merged.name = name;
  SAVOIR_ASSIGN_OR_RETURN(merged.segment, Segment::Open(dir_ + "/" + name, /*just_written=*/true));

  return WithWriteLock([&] { return InstallMerged(std::move(merged), names, sources, remap); });
}

Status KeywordIndex::InstallMerged(SegmentView merged, const std::vector<std::string>& names,
                                   const std::vector<const SegmentView*>& sources,
                                   const std::vector<std::vector<uint32_t>>& remap) {
  const std::string& name = merged.name;
  auto now = snapshot();
  // Carry over deletions that committed while we were merging.
  auto del = std::make_shared<Roaring>();
  for (size_t s = 0; s < sources.size(); ++s) {
    auto it = std::find_if(now->segments.begin(), now->segments.end(),
                           [&](const SegmentView& v) { return v.name == sources[s]->name; });
    if (it == now->segments.end()) {
      // Another process merged or dropped it meanwhile: this merge is moot.
      std::error_code ec;
      fs::remove(dir_ + "/" + name, ec);
      return Status::Ok();
    }
    Roaring newly = *it->deleted - *sources[s]->deleted;
    for (uint32_t l : newly) del->add(remap[s][l]);
  }
  if (!del->isEmpty()) {
    merged.del_name = name + ".del." + std::to_string(del_generation_++);
    SAVOIR_RETURN_IF_ERROR(WriteFileAtomic(dir_ + "/" + merged.del_name, SerializeBitmap(*del)));
  }
  merged.deleted = del;
  ComputeLive(&merged);

  auto next = std::make_shared<Snapshot>();
  next->applied_seq = now->applied_seq;
  bool placed = false;
  for (const auto& v : now->segments) {
    if (std::find(names.begin(), names.end(), v.name) != names.end()) {
      // The merged segment takes the place of its first source, so local-doc
      // order (and with it, tie-breaking) stays stable.
      if (!placed) next->segments.push_back(merged);
      placed = true;
      continue;
    }
    next->segments.push_back(v);
  }
  Summed(next);
  SAVOIR_RETURN_IF_ERROR(WriteManifest(*next));
  {
    std::lock_guard<std::mutex> lock(snap_mu_);
    snap_ = next;
  }
  RemoveGarbage(*next);
  return Status::Ok();
}

void KeywordIndex::StartBackgroundMerges() {
  if (merger_.joinable()) return;
  merger_stop_ = false;
  merger_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(merger_mu_);
    while (!merger_stop_) {
      merger_cv_.wait(lock, [this] { return merger_stop_ || merger_pending_; });
      if (merger_stop_) break;
      merger_pending_ = false;
      lock.unlock();
      Status st = MaybeMerge();
      if (!st.ok()) std::fprintf(stderr, "savoir: background merge failed: %s\n", st.ToString().c_str());
      lock.lock();
    }
  });
}

void KeywordIndex::StopBackgroundMerges() {
  {
    std::lock_guard<std::mutex> lock(merger_mu_);
    merger_stop_ = true;
  }
  merger_cv_.notify_all();
  if (merger_.joinable()) merger_.join();
}

IndexStats KeywordIndex::Stats() const {
  auto snap = snapshot();
  IndexStats st;
  st.segments = snap->segments.size();
  std::error_code ec;
  for (const auto& v : snap->segments) {
    st.live_chunks += v.live_docs;
    st.deleted_chunks += v.segment->n_docs() - v.live_docs;
    st.bytes += fs::file_size(v.segment->path(), ec);
  }
  return st;
}

}  // namespace savoir
