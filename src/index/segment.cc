#include "index/segment.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <thread>

#include "common/file.h"

namespace savoir {
namespace {

using segfmt::BlockMeta;
using segfmt::kBlockSize;
using segfmt::TermInfo;

void PutVarint(uint32_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

inline const uint8_t* GetVarint(const uint8_t* p, uint32_t* v) {
  uint32_t r = *p & 0x7F;
  if (*p++ < 0x80) { *v = r; return p; }
  r |= uint32_t(*p & 0x7F) << 7;
  if (*p++ < 0x80) { *v = r; return p; }
  r |= uint32_t(*p & 0x7F) << 14;
  if (*p++ < 0x80) { *v = r; return p; }
  r |= uint32_t(*p & 0x7F) << 21;
  if (*p++ < 0x80) { *v = r; return p; }
  r |= uint32_t(*p++) << 28;
  *v = r;
  return p;
}

template <typename T>
void Append(std::string* out, const T* data, size_t n) {
  out->append(reinterpret_cast<const char*>(data), n * sizeof(T));
}
void Align8(std::string* out) { out->resize((out->size() + 7) & ~size_t{7}, '\0'); }

// Checks everything a reader of the mapped file dereferences, so that a
// corrupt or truncated segment fails Open instead of crashing later: the
// sections fit in the file and are aligned, term offsets are ordered and
// inside the blob, and every posting list (block metas, LEB128 bytes) lies
// in the postings section with block sizes matching df, docs increasing,
// below n_docs and ending at the block's last_doc.
bool Fits(const segfmt::Header& h, uint64_t off, uint64_t count, uint64_t elem, uint64_t align) {
  return off % align == 0 && off <= h.file_size && count <= (h.file_size - off) / elem;
}

Status ValidateSegment(const uint8_t* base, const segfmt::Header& h, const std::string& path) {
  auto corrupt = [&](const char* what) {
    return Status(ErrorKind::kCorrupt, "segment " + path + ": " + what);
  };
  const uint64_t n = h.n_docs;
  if (!Fits(h, h.off_doc_lens, n, 4, 4) || !Fits(h, h.off_chunk_ids, n, 8, 8) ||
      !Fits(h, h.off_doc_ids, n, 8, 8) || !Fits(h, h.off_updated_at, n, 8, 8) ||
      !Fits(h, h.off_doc_lookup, n, sizeof(segfmt::DocLookup), 8))
    return corrupt("bad document arrays");
  const auto* lookup = reinterpret_cast<const segfmt::DocLookup*>(base + h.off_doc_lookup);
  for (uint64_t i = 0; i < n; ++i) {
    if (lookup[i].local >= n || (i > 0 && lookup[i].doc_id < lookup[i - 1].doc_id))
      return corrupt("bad document lookup");
  }
  if (h.n_terms >= h.file_size || !Fits(h, h.off_term_offsets, h.n_terms + 1, 4, 4) ||
      !Fits(h, h.off_term_infos, h.n_terms, sizeof(TermInfo), 8) || h.off_term_blob > h.file_size ||
      h.off_postings > h.off_facets || h.off_postings % 4 != 0)
    return corrupt("bad term dictionary");
  const auto* offsets = reinterpret_cast<const uint32_t*>(base + h.off_term_offsets);
  for (uint64_t i = 0; i < h.n_terms; ++i) {
    if (offsets[i] > offsets[i + 1]) return corrupt("bad term offsets");
  }
  if (offsets[h.n_terms] > h.file_size - h.off_term_blob) return corrupt("bad term offsets");
  const auto* infos = reinterpret_cast<const TermInfo*>(base + h.off_term_infos);
  const uint8_t* post = base + h.off_postings;
  const uint64_t post_size = h.off_facets - h.off_postings;
  for (uint64_t i = 0; i < h.n_terms; ++i) {
    const TermInfo& info = infos[i];
    if (info.df == 0) continue;  // cursors never read an empty list
    if (info.n_blocks != (uint64_t{info.df} + kBlockSize - 1) / kBlockSize || info.postings % 4 != 0 ||
        info.postings > post_size || info.n_blocks > (post_size - info.postings) / sizeof(BlockMeta))
      return corrupt("bad posting list");
    const uint8_t* list = post + info.postings;
    const uint8_t* end = post + post_size;
    const auto* metas = reinterpret_cast<const BlockMeta*>(list);
    uint64_t prev = 0;
    for (uint32_t b = 0; b < info.n_blocks; ++b) {
      const uint32_t count = b + 1 < info.n_blocks ? kBlockSize : info.df - b * kBlockSize;
      if (metas[b].data > static_cast<uint64_t>(end - list)) return corrupt("bad posting block");
      const uint8_t* p = list + metas[b].data;
      auto varint = [&](uint32_t* v) {
        uint64_t r = 0;
        for (int shift = 0; shift < 35; shift += 7) {
          if (p == end) return false;
          uint8_t byte = *p++;
          r |= uint64_t{byte & 0x7Fu} << shift;
          if (byte < 0x80) break;
        }
        *v = static_cast<uint32_t>(r);
        return true;
      };
      for (uint32_t k = 0; k < count; ++k) {
        uint32_t d = 0;
        if (!varint(&d)) return corrupt("truncated posting block");
        // Docs strictly increase within a list (the first one may be 0).
        if ((b > 0 || k > 0) && d == 0) return corrupt("bad posting block");
        prev += d;
        if (prev >= n) return corrupt("posting beyond the last document");
      }
      if (prev != metas[b].last_doc) return corrupt("bad block skip data");
      for (uint32_t k = 0; k < count; ++k) {
        uint32_t f = 0;
        if (!varint(&f)) return corrupt("truncated posting block");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------- writer

void SegmentWriter::Add(const IndexedChunk& chunk) {
  uint32_t local = AddDoc(chunk.chunk_id, chunk.doc_id, chunk.updated_at,
                          chunk.length ? chunk.length : static_cast<uint32_t>(chunk.terms.size()));
  scratch_.clear();
  for (const auto& t : chunk.terms) scratch_.push_back(Intern(t));
  std::sort(scratch_.begin(), scratch_.end());
  for (size_t i = 0; i < scratch_.size();) {
    size_t j = i + 1;
    while (j < scratch_.size() && scratch_[j] == scratch_[i]) ++j;
    postings_.push_back(Posting{scratch_[i], local, static_cast<uint32_t>(j - i)});
    i = j;
  }
  for (const auto& f : chunk.facets) AddFacet(f, local);
}

uint32_t SegmentWriter::AddDoc(int64_t chunk_id, int64_t doc_id, int64_t updated_at,
                               uint32_t doc_len) {
  doc_lens_.push_back(doc_len);
  chunk_ids_.push_back(chunk_id);
  doc_ids_.push_back(doc_id);
  updated_at_.push_back(updated_at);
  return size() - 1;
}

uint32_t SegmentWriter::Intern(std::string_view term) {
  if (term_hashes_.size() * 2 >= slots_.size()) {
    // Grow and rehash (load factor <= 0.5).
    std::vector<uint32_t> bigger(std::max<size_t>(1024, slots_.size() * 2), 0);
    size_t mask = bigger.size() - 1;
    for (uint32_t id = 0; id < term_hashes_.size(); ++id) {
      size_t pos = term_hashes_[id] & mask;
      while (bigger[pos]) pos = (pos + 1) & mask;
      bigger[pos] = id + 1;
    }
    slots_.swap(bigger);
  }
  uint64_t h = std::hash<std::string_view>()(term);
  size_t mask = slots_.size() - 1;
  for (size_t pos = h & mask;; pos = (pos + 1) & mask) {
    uint32_t slot = slots_[pos];
    if (slot == 0) {
      uint32_t id = static_cast<uint32_t>(term_hashes_.size());
      arena_.append(term);
      term_offsets_.push_back(static_cast<uint32_t>(arena_.size()));
      term_hashes_.push_back(h);
      slots_[pos] = id + 1;
      return id;
    }
    if (term_hashes_[slot - 1] == h && TermText(slot - 1) == term) return slot - 1;
  }
}

// Term ids in byte order of their text. Most comparisons are settled by the
// first 8 bytes read as one big-endian integer (terms hold no NUL byte, so
// zero padding sorts a prefix first); only equal prefixes compare the rest.
// Two halves are sorted on two threads, then merged.
std::vector<uint32_t> SegmentWriter::SortedTermOrder() const {
  const uint32_t n_terms = static_cast<uint32_t>(term_hashes_.size());
  struct Key {
    uint64_t prefix;
    uint32_t id;
  };
  std::vector<Key> keys(n_terms);
  for (uint32_t t = 0; t < n_terms; ++t) {
    std::string_view text = TermText(t);
    uint64_t prefix = 0;
    for (size_t i = 0; i < 8; ++i)
      prefix = (prefix << 8) | (i < text.size() ? static_cast<unsigned char>(text[i]) : 0u);
    keys[t] = {prefix, t};
  }
  auto less = [this](const Key& a, const Key& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    return TermText(a.id) < TermText(b.id);
  };
  auto mid = keys.begin() + keys.size() / 2;
  if (keys.size() >= 65536) {
    std::thread other([&] { std::sort(keys.begin(), mid, less); });
    std::sort(mid, keys.end(), less);
    other.join();
    std::inplace_merge(keys.begin(), mid, keys.end(), less);
  } else {
    std::sort(keys.begin(), keys.end(), less);
  }
  std::vector<uint32_t> order(n_terms);
  for (uint32_t t = 0; t < n_terms; ++t) order[t] = keys[t].id;
  return order;
}

void SegmentWriter::Concat(const SegmentWriter& other) {
  const uint32_t offset = size();
  for (uint32_t i = 0; i < other.size(); ++i)
    AddDoc(other.chunk_ids_[i], other.doc_ids_[i], other.updated_at_[i], other.doc_lens_[i]);
  std::vector<uint32_t> remap(other.term_hashes_.size());
  for (uint32_t t = 0; t < remap.size(); ++t) remap[t] = Intern(other.TermText(t));
  postings_.reserve(postings_.size() + other.postings_.size());
  for (const auto& p : other.postings_) postings_.push_back(Posting{remap[p.term], p.doc + offset, p.freq});
  for (const auto& [name, bm] : other.facets_) {
    Roaring& mine = facets_[name];
    for (uint32_t local : bm) mine.add(local + offset);
  }
}

void SegmentWriter::AddPosting(std::string_view term, uint32_t local, uint32_t freq) {
  postings_.push_back(Posting{Intern(term), local, freq});
}

Status SegmentWriter::Write(const std::string& path) const {
  const uint32_t n_docs = size();
  segfmt::Header h{};
  std::memcpy(h.magic, segfmt::kMagic, sizeof(h.magic));
  h.version = segfmt::kVersion;
  h.n_docs = n_docs;
  h.n_terms = term_hashes_.size();

  std::string out(sizeof(segfmt::Header), '\0');
  h.off_doc_lens = out.size();
  Append(&out, doc_lens_.data(), n_docs);
  for (uint32_t l : doc_lens_) h.total_len += l;
  Align8(&out);
  h.off_chunk_ids = out.size();
  Append(&out, chunk_ids_.data(), n_docs);
  h.off_doc_ids = out.size();
  Append(&out, doc_ids_.data(), n_docs);
  h.off_updated_at = out.size();
  Append(&out, updated_at_.data(), n_docs);

  std::vector<segfmt::DocLookup> lookup(n_docs);
  for (uint32_t i = 0; i < n_docs; ++i) lookup[i] = {doc_ids_[i], i, 0};
  std::sort(lookup.begin(), lookup.end(), [](const auto& a, const auto& b) {
    return a.doc_id != b.doc_id ? a.doc_id < b.doc_id : a.local < b.local;
  });
  h.off_doc_lookup = out.size();
  Append(&out, lookup.data(), n_docs);

  // Group postings by term (counting sort keeps each term's docs in the
  // order they were added, which is increasing local order).
  const uint32_t n_terms = static_cast<uint32_t>(term_hashes_.size());
  std::vector<uint32_t> start(n_terms + 1, 0);
  for (const auto& p : postings_) ++start[p.term + 1];
  for (uint32_t t = 0; t < n_terms; ++t) start[t + 1] += start[t];
  std::vector<std::pair<uint32_t, uint32_t>> grouped(postings_.size());
  {
    std::vector<uint32_t> fill(start.begin(), start.end() - 1);
    for (const auto& p : postings_) grouped[fill[p.term]++] = {p.doc, p.freq};
  }
  std::vector<uint32_t> order = SortedTermOrder();

  std::vector<uint32_t> term_offsets;
  term_offsets.reserve(n_terms + 1);
  std::string blob;
  blob.reserve(arena_.size());
  for (uint32_t t : order) {
    term_offsets.push_back(static_cast<uint32_t>(blob.size()));
    blob += TermText(t);
  }
  term_offsets.push_back(static_cast<uint32_t>(blob.size()));
  h.off_term_offsets = out.size();
  Append(&out, term_offsets.data(), term_offsets.size());
  Align8(&out);
  h.off_term_blob = out.size();
  out += blob;
  Align8(&out);

  // Postings first into their own buffer, so term infos can point into it.
  std::string post;
  post.reserve(postings_.size() * 3);
  std::vector<TermInfo> infos;
  infos.reserve(n_terms);
  std::string block;
  for (uint32_t t : order) {
    const std::pair<uint32_t, uint32_t>* list = grouped.data() + start[t];
    const size_t list_size = start[t + 1] - start[t];
    TermInfo info{};
    info.postings = post.size();
    info.df = static_cast<uint32_t>(list_size);
    info.n_blocks = (info.df + kBlockSize - 1) / kBlockSize;
    info.min_len = UINT32_MAX;
    size_t metas_at = post.size();
    post.resize(post.size() + info.n_blocks * sizeof(BlockMeta));
    uint32_t prev = 0;
    for (uint32_t b = 0; b < info.n_blocks; ++b) {
      BlockMeta m{};
      m.min_len = UINT32_MAX;
      block.clear();
      size_t lo = size_t{b} * kBlockSize, hi = std::min<size_t>(list_size, lo + kBlockSize);
      for (size_t i = lo; i < hi; ++i) {
        PutVarint(list[i].first - prev, &block);
        prev = list[i].first;
        m.max_tf = std::max(m.max_tf, list[i].second);
        m.min_len = std::min(m.min_len, doc_lens_[list[i].first]);
      }
      for (size_t i = lo; i < hi; ++i) PutVarint(list[i].second, &block);
      m.last_doc = prev;
      m.data = static_cast<uint32_t>(post.size() - metas_at);
      post += block;
      std::memcpy(&post[metas_at + b * sizeof(BlockMeta)], &m, sizeof(m));
      info.max_tf = std::max(info.max_tf, m.max_tf);
      info.min_len = std::min(info.min_len, m.min_len);
    }
    // Keep BlockMeta arrays aligned for the next term.
    post.resize((post.size() + 3) & ~size_t{3}, '\0');
    infos.push_back(info);
  }
  h.off_term_infos = out.size();
  Append(&out, infos.data(), infos.size());
  Align8(&out);
  h.off_postings = out.size();
  out += post;
  Align8(&out);

  h.off_facets = out.size();
  uint32_t n_facets = static_cast<uint32_t>(facets_.size());
  Append(&out, &n_facets, 1);
  for (const auto& [name, bm] : facets_) {
    Roaring copy = bm;
    copy.runOptimize();
    uint32_t name_len = static_cast<uint32_t>(name.size());
    Append(&out, &name_len, 1);
    out += name;
    uint32_t sz = static_cast<uint32_t>(copy.getSizeInBytes(/*portable=*/true));
    Append(&out, &sz, 1);
    size_t at = out.size();
    out.resize(at + sz);
    copy.write(&out[at], /*portable=*/true);
  }
  h.file_size = out.size();
  std::memcpy(out.data(), &h, sizeof(h));
  return WriteFileAtomic(path, out);
}

// ---------------------------------------------------------------- reader

Result<std::shared_ptr<Segment>> Segment::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status(ErrorKind::kIo, "cannot open segment " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || static_cast<size_t>(st.st_size) < sizeof(segfmt::Header)) {
    ::close(fd);
    return Status(ErrorKind::kCorrupt, "segment " + path + " is truncated");
  }
  void* p = mmap(nullptr, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (p == MAP_FAILED) return Status(ErrorKind::kIo, "cannot map segment " + path);
  std::shared_ptr<Segment> seg(new Segment());
  seg->path_ = path;
  seg->base_ = static_cast<const uint8_t*>(p);
  seg->size_ = st.st_size;
  seg->header_ = reinterpret_cast<const segfmt::Header*>(p);
  const auto& h = *seg->header_;
  if (std::memcmp(h.magic, segfmt::kMagic, 8) != 0 || h.version != segfmt::kVersion ||
      h.file_size != seg->size_ || h.off_facets >= seg->size_) {
    return Status(ErrorKind::kCorrupt, "segment " + path + " has a bad header");
  }
  if (Status s = ValidateSegment(seg->base_, h, path); !s.ok()) return s;
  seg->doc_lens_ = reinterpret_cast<const uint32_t*>(seg->base_ + h.off_doc_lens);
  seg->chunk_ids_ = reinterpret_cast<const int64_t*>(seg->base_ + h.off_chunk_ids);
  seg->doc_ids_ = reinterpret_cast<const int64_t*>(seg->base_ + h.off_doc_ids);
  seg->updated_at_ = reinterpret_cast<const int64_t*>(seg->base_ + h.off_updated_at);
  seg->lookup_ = reinterpret_cast<const segfmt::DocLookup*>(seg->base_ + h.off_doc_lookup);
  seg->term_offsets_ = reinterpret_cast<const uint32_t*>(seg->base_ + h.off_term_offsets);
  seg->term_blob_ = reinterpret_cast<const char*>(seg->base_ + h.off_term_blob);
  seg->term_infos_ = reinterpret_cast<const TermInfo*>(seg->base_ + h.off_term_infos);
  const uint8_t* f = seg->base_ + h.off_facets;
  const uint8_t* end = seg->base_ + seg->size_;
  auto take_u32 = [&](uint32_t* v) {
    if (f + 4 > end) return false;
    std::memcpy(v, f, 4);
    f += 4;
    return true;
  };
  uint32_t n = 0;
  if (!take_u32(&n)) return Status(ErrorKind::kCorrupt, "segment " + path + ": bad facets");
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t len = 0, sz = 0;
    if (!take_u32(&len) || f + len > end) return Status(ErrorKind::kCorrupt, "segment " + path + ": bad facet");
    std::string name(reinterpret_cast<const char*>(f), len);
    f += len;
    if (!take_u32(&sz) || f + sz > end) return Status(ErrorKind::kCorrupt, "segment " + path + ": bad facet");
    try {  // readSafe throws on a malformed bitmap
      seg->facets_.emplace(std::move(name), Roaring::readSafe(reinterpret_cast<const char*>(f), sz));
    } catch (const std::exception&) {
      return Status(ErrorKind::kCorrupt, "segment " + path + ": bad facet bitmap");
    }
    f += sz;
  }
  madvise(p, st.st_size, MADV_RANDOM);
  return seg;
}

Segment::~Segment() {
  if (base_) munmap(const_cast<uint8_t*>(base_), size_);
}

std::string_view Segment::term(uint64_t i) const {
  return std::string_view(term_blob_ + term_offsets_[i], term_offsets_[i + 1] - term_offsets_[i]);
}

const TermInfo* Segment::Find(std::string_view t) const {
  uint64_t lo = 0, hi = header_->n_terms;
  while (lo < hi) {
    uint64_t mid = (lo + hi) / 2;
    int c = term(mid).compare(t);
    if (c == 0) return &term_infos_[mid];
    if (c < 0) lo = mid + 1; else hi = mid;
  }
  return nullptr;
}

std::vector<uint32_t> Segment::LocalsOfDocument(int64_t doc_id) const {
  std::vector<uint32_t> out;
  const auto* end = lookup_ + n_docs();
  const auto* it = std::lower_bound(lookup_, end, doc_id,
                                    [](const segfmt::DocLookup& a, int64_t d) { return a.doc_id < d; });
  for (; it != end && it->doc_id == doc_id; ++it) out.push_back(it->local);
  return out;
}

const Roaring& Segment::Facet(const std::string& name) const {
  static const Roaring kEmpty;
  auto it = facets_.find(name);
  return it == facets_.end() ? kEmpty : it->second;
}

// ---------------------------------------------------------------- cursor

PostingCursor::PostingCursor(const Segment* seg, const TermInfo* info) : seg_(seg), info_(info) {
  if (!info || info->df == 0) return;
  metas_ = reinterpret_cast<const BlockMeta*>(seg->postings_base() + info->postings);
  base_ = reinterpret_cast<const uint8_t*>(metas_);
  LoadBlock(0);
}

void PostingCursor::LoadBlock(uint32_t b) {
  block_ = b;
  pos_ = 0;
  if (b >= info_->n_blocks) {
    doc_ = kEnd;
    n_in_block_ = 0;
    return;
  }
  n_in_block_ = b + 1 < info_->n_blocks ? kBlockSize : info_->df - b * kBlockSize;
  const uint8_t* p = base_ + metas_[b].data;
  uint32_t prev = b ? metas_[b - 1].last_doc : 0;
  for (uint32_t i = 0; i < n_in_block_; ++i) {
    uint32_t d;
    p = GetVarint(p, &d);
    prev += d;
    docs_[i] = prev;
  }
  for (uint32_t i = 0; i < n_in_block_; ++i) p = GetVarint(p, &freqs_[i]);
  doc_ = docs_[0];
}

void PostingCursor::Next() {
  if (doc_ == kEnd) return;
  if (++pos_ < n_in_block_) {
    doc_ = docs_[pos_];
  } else {
    LoadBlock(block_ + 1);
  }
}

void PostingCursor::Advance(uint32_t target) {
  if (doc_ == kEnd || doc_ >= target) return;
  if (metas_[block_].last_doc < target) {
    uint32_t b = block_ + 1;
    while (b < info_->n_blocks && metas_[b].last_doc < target) ++b;
    LoadBlock(b);
    if (doc_ == kEnd) return;
  }
  while (docs_[pos_] < target) ++pos_;
  doc_ = docs_[pos_];
}

const BlockMeta* PostingCursor::BlockFor(uint32_t target) const {
  if (!info_ || doc_ == kEnd) return nullptr;
  uint32_t b = block_;
  while (b < info_->n_blocks && metas_[b].last_doc < target) ++b;
  return b < info_->n_blocks ? &metas_[b] : nullptr;
}

}  // namespace savoir
