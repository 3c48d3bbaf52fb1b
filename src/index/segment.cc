#include "index/segment.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <cstring>
#include <exception>
#include <functional>
#include <thread>

#include "common/file.h"

namespace savoir {
namespace {

using segfmt::BlockMeta;
using segfmt::kBlockSize;

inline char* EncodeVarint(uint32_t v, char* p) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
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

// A LEB128 u32 read within [p, end): false on overrun or more than 32 bits.
inline bool ReadVarint(const uint8_t*& p, const uint8_t* end, uint32_t* v) {
  uint32_t r = 0;
  for (int shift = 0; shift < 35; shift += 7) {
    if (p == end) return false;
    const uint8_t b = *p++;
    if (shift == 28 && b > 0x0F) return false;
    r |= uint32_t{b & 0x7Fu} << shift;
    if (b < 0x80) {
      *v = r;
      return true;
    }
  }
  return false;
}

struct DictEntry {
  uint32_t prefix = 0, df = 0;
  uint32_t a = 0, b = 0;  // df == 1: doc, tf; df >= 2: max_tf, min_len
};

// One dictionary entry (see segment_format.h), decoded in place: the term
// is rebuilt in `buf` from the previous one, `running` follows the posting
// offsets. Bounds-checked: false on a malformed entry.
bool DecodeDictEntry(const uint8_t*& p, const uint8_t* end, char* buf, uint32_t* len, uint64_t* running,
                     DictEntry* e) {
  uint32_t prefix = 0, suffix = 0;
  if (!ReadVarint(p, end, &prefix) || !ReadVarint(p, end, &suffix)) return false;
  if (prefix > *len || suffix > segfmt::kMaxTermLen - prefix || suffix > static_cast<size_t>(end - p))
    return false;
  std::memcpy(buf + prefix, p, suffix);
  p += suffix;
  *len = prefix + suffix;
  e->prefix = prefix;
  if (!ReadVarint(p, end, &e->df) || !ReadVarint(p, end, &e->a) || !ReadVarint(p, end, &e->b)) return false;
  if (e->df >= 2) {
    uint32_t gap = 0;
    if (!ReadVarint(p, end, &gap)) return false;
    *running += gap;
  }
  return true;
}

// Checks everything a reader of the mapped file dereferences, so that a
// corrupt or truncated segment fails Open instead of crashing later: the
// sections fit in the file and are aligned, the dictionary decodes with its
// terms in strictly increasing order, and every posting list lies in the
// postings section with docs increasing, below n_docs, and (lists of several
// blocks) ending at each block's last_doc.
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
  if (h.n_dict_blocks > h.n_terms || (h.n_terms > 0 && h.n_dict_blocks == 0) ||
      !Fits(h, h.off_dict_index, h.n_dict_blocks + 1, sizeof(segfmt::DictBlock), 8) ||
      h.off_dict > h.off_postings || h.off_postings > h.off_facets || h.off_facets > h.file_size ||
      h.off_postings % 8 != 0)
    return corrupt("bad term dictionary");
  const auto* blocks = reinterpret_cast<const segfmt::DictBlock*>(base + h.off_dict_index);
  const uint8_t* dict = base + h.off_dict;
  const uint64_t dict_size = h.off_postings - h.off_dict;
  const uint8_t* post = base + h.off_postings;
  const uint64_t post_size = h.off_facets - h.off_postings;
  const uint8_t* post_end = post + post_size;

  // Doc-id deltas then tfs of `count` docs from p: docs strictly increase
  // from `prev` (the first may equal it when it is the list's first doc).
  auto check_block = [&](const uint8_t* p, uint32_t count, bool first_block, uint32_t* prev) {
    uint64_t d = *prev;
    for (uint32_t k = 0; k < count; ++k) {
      uint32_t delta = 0;
      if (!ReadVarint(p, post_end, &delta)) return false;
      if ((!first_block || k > 0) && delta == 0) return false;
      d += delta;
      if (d >= n) return false;
    }
    for (uint32_t k = 0; k < count; ++k) {
      uint32_t f = 0;
      if (!ReadVarint(p, post_end, &f) || f == 0) return false;
    }
    *prev = static_cast<uint32_t>(d);
    return true;
  };

  char prev_term[segfmt::kMaxTermLen], term[segfmt::kMaxTermLen];
  uint32_t prev_len = 0;
  bool have_prev = false;
  // The end marker, then the zero padding that aligns the postings.
  const uint64_t dict_end = blocks[h.n_dict_blocks].dict;
  if (dict_end > dict_size || dict_size - dict_end >= 8 ||
      std::any_of(dict + dict_end, dict + dict_size, [](uint8_t c) { return c != 0; }))
    return corrupt("bad dictionary end");
  uint64_t terms_seen = 0;
  for (uint64_t b = 0; b < h.n_dict_blocks; ++b) {
    const uint64_t from = blocks[b].dict, to = blocks[b + 1].dict;
    if (from >= to || to > dict_end) return corrupt("bad dictionary block offsets");
    const uint8_t* p = dict + from;
    const uint8_t* end = dict + to;
    uint64_t running = blocks[b].post_base;
    uint32_t len = 0;
    for (uint32_t i = 0; p < end; ++i) {
      DictEntry e;
      if (i == segfmt::kDictBlock || !DecodeDictEntry(p, end, term, &len, &running, &e) || (i == 0 && e.prefix != 0))
        return corrupt("bad dictionary entry");
      ++terms_seen;
      if (have_prev) {
        int c = std::memcmp(prev_term, term, std::min(prev_len, len));
        if (c > 0 || (c == 0 && prev_len >= len)) return corrupt("dictionary terms out of order");
      }
      std::memcpy(prev_term, term, len);
      prev_len = len;
      have_prev = true;
      if (e.df == 0 || e.df > n) return corrupt("bad document frequency");
      if (e.df == 1) {
        if (e.a >= n || e.b == 0) return corrupt("bad inline posting");
        continue;
      }
      const uint32_t n_blocks = (e.df + segfmt::kBlockSize - 1) / segfmt::kBlockSize;
      if (running >= post_size) return corrupt("bad posting list");
      const uint8_t* list = post + running;
      uint32_t prev = 0;
      if (n_blocks == 1) {
        if (!check_block(list, e.df, true, &prev)) return corrupt("bad posting block");
        continue;
      }
      if (running % 4 != 0 || n_blocks > (post_size - running) / sizeof(BlockMeta))
        return corrupt("bad posting list");
      const auto* metas = reinterpret_cast<const BlockMeta*>(list);
      for (uint32_t k = 0; k < n_blocks; ++k) {
        const uint32_t cnt = k + 1 < n_blocks ? kBlockSize : e.df - k * kBlockSize;
        if (metas[k].data > static_cast<uint64_t>(post_end - list)) return corrupt("bad posting block");
        if (!check_block(list + metas[k].data, cnt, k == 0, &prev)) return corrupt("bad posting block");
        if (prev != metas[k].last_doc) return corrupt("bad block skip data");
      }
    }
  }
  if (terms_seen != h.n_terms) return corrupt("dictionary term count differs from the header");
  return Status::Ok();
}

}  // namespace

// ---------------------------------------------------------------- writer

uint64_t SegmentWriter::NextUid() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

void SegmentWriter::Add(const IndexedChunk& chunk) {
  uint32_t local = AddDoc(chunk.chunk_id, chunk.doc_id, chunk.updated_at,
                          chunk.length ? chunk.length : static_cast<uint32_t>(chunk.terms.size()));
  for (const auto& t : chunk.terms) AddTerm(local, t);
  for (const auto& f : chunk.facets) AddFacet(f, local);
}

// A text of two plain words "a b" is the pair (a, b); anything else holding
// a byte <= ' ' is a word that turns pair ordering off.
bool SegmentWriter::SplitPair(std::string_view term, uint32_t* a, uint32_t* b, bool* low_byte) {
  size_t space = std::string_view::npos;
  bool low = false;
  for (size_t i = 0; i < term.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(term[i]);
    if (c > ' ') continue;
    if (c == ' ' && space == std::string_view::npos) space = i;
    else low = true;
  }
  if (!low && space != std::string_view::npos && space > 0 && space + 1 < term.size()) {
    *a = InternText(term.substr(0, space), false);
    *b = InternText(term.substr(space + 1), false);
    return true;
  }
  *low_byte = low || space != std::string_view::npos;
  return false;
}

uint32_t SegmentWriter::TermId(std::string_view term) {
  if (term.size() > segfmt::kMaxTermLen) return kNoTerm;
  uint32_t a = 0, b = 0;
  bool low = false;
  if (SplitPair(term, &a, &b, &low)) {
    pair_handles_.emplace_back(a, b);
    return static_cast<uint32_t>(pair_handles_.size() - 1) | kPairBit;
  }
  return InternText(term, low);
}

void SegmentWriter::AddPosting(uint32_t term_id, uint32_t local, uint32_t freq) {
  if (term_id == kNoTerm) return;
  if (term_id & kPairBit) {
    const auto& [a, b] = pair_handles_[term_id & ~kPairBit];
    pairs_.push_back(PairOcc{a, b, local, freq});
    return;
  }
  postings_.push_back(Posting{term_id, local, freq});
}

uint32_t SegmentWriter::AddTerm(uint32_t local, std::string_view term) {
  if (term.size() > segfmt::kMaxTermLen) return kNoTerm;
  uint32_t a = 0, b = 0;
  bool low = false;
  if (SplitPair(term, &a, &b, &low)) {
    pairs_.push_back(PairOcc{a, b, local, 1});
    return kNoTerm;
  }
  const uint32_t id = InternText(term, low);
  Occurs(id, local);
  return id;
}

void SegmentWriter::AddPair(uint32_t local, uint32_t a, uint32_t b, uint32_t freq) {
  if (a == kNoTerm || b == kNoTerm || ((a | b) & kPairBit)) return;  // words only
  if ((term_len_[a] | term_len_[b]) & kLowByteBit) {
    // Not two plain words: the pair is its text.
    std::string text(TermText(a));
    text += ' ';
    text += TermText(b);
    if (uint32_t id = AddTerm(local, text); id != kNoTerm) postings_[last_posting_[id]].freq += freq - 1;
    return;
  }
  if ((term_len_[a] & kLenMask) + 1 + (term_len_[b] & kLenMask) > segfmt::kMaxTermLen) return;
  pairs_.push_back(PairOcc{a, b, local, freq});
}

uint32_t SegmentWriter::AddDoc(int64_t chunk_id, int64_t doc_id, int64_t updated_at,
                               uint32_t doc_len) {
  doc_lens_.push_back(doc_len);
  chunk_ids_.push_back(chunk_id);
  doc_ids_.push_back(doc_id);
  updated_at_.push_back(updated_at);
  return size() - 1;
}

uint32_t SegmentWriter::InternText(std::string_view term, bool low_byte) {
  if (size_t{n_terms()} * 2 >= slots_.size()) {
    // Grow and rehash (load factor <= 0.5) from the hashes kept in the slots.
    std::vector<Slot> bigger(std::max<size_t>(1024, slots_.size() * 2), Slot{0, 0});
    const size_t mask = bigger.size() - 1;
    for (const Slot& s : slots_) {
      if (!s.id_plus1) continue;
      size_t pos = s.hash & mask;
      while (bigger[pos].id_plus1) pos = (pos + 1) & mask;
      bigger[pos] = s;
    }
    slots_.swap(bigger);
  }
  const uint32_t h = static_cast<uint32_t>(std::hash<std::string_view>()(term));
  const size_t mask = slots_.size() - 1;
  for (size_t pos = h & mask;; pos = (pos + 1) & mask) {
    const Slot s = slots_[pos];
    if (s.id_plus1 == 0) {
      const uint32_t id = n_terms();
      term_at_.push_back(static_cast<uint32_t>(arena_.size()));
      term_len_.push_back(static_cast<uint32_t>(term.size()) | (low_byte ? kLowByteBit : 0));
      arena_.append(term);
      last_doc_.push_back(UINT32_MAX);
      last_posting_.push_back(0);
      slots_[pos] = Slot{id + 1, h};
      if (low_byte) low_bytes_ = true;
      return id;
    }
    if (s.hash == h && TermText(s.id_plus1 - 1) == term) return s.id_plus1 - 1;
  }
}

SegmentWriter::SortKey SegmentWriter::KeyOf(std::string_view text, uint32_t id) {
  SortKey k{0, 0, id};
  for (size_t i = 0; i < 8; ++i) k.hi = (k.hi << 8) | (i < text.size() ? static_cast<unsigned char>(text[i]) : 0u);
  for (size_t i = 8; i < 16; ++i) k.lo = (k.lo << 8) | (i < text.size() ? static_cast<unsigned char>(text[i]) : 0u);
  return k;
}

namespace {
// std::sort, on two threads past 65,536 elements (halves, then a merge).
template <typename T, typename Less>
void SortOnTwo(std::vector<T>& v, Less less) {
  if (v.size() < 65536) {
    std::sort(v.begin(), v.end(), less);
    return;
  }
  auto mid = v.begin() + v.size() / 2;
  std::thread other([&] { std::sort(v.begin(), mid, less); });
  std::sort(mid, v.end(), less);
  other.join();
  std::inplace_merge(v.begin(), mid, v.end(), less);
}

// Pair occurrences with their words mapped to (ka, kb), sorted by (ka, kb)
// with a stable LSD radix sort (16-bit digits, digits above `max_key`
// skipped), so each pair's docs stay in the order they were added.
struct KeyedOcc {
  uint32_t ka, kb, doc, freq;
};
template <typename Occs>
void RadixSortPairs(const Occs& in, const std::vector<uint32_t>& key_of, uint32_t max_key, std::vector<KeyedOcc>* out) {
  // The key is (ka, kb) as one integer of 2 * bits bits, sorted in digits of
  // at most 11 bits: a pass scatters into at most 2,048 buckets, whose write
  // positions stay in cache (one 16-bit pass per word, 65,536 buckets,
  // missed the cache on nearly every record: twice as slow in all).
  const int bits = max_key == 0 ? 1 : 32 - __builtin_clz(max_key);
  const int n_passes = (2 * bits + 10) / 11;
  const int width = (2 * bits + n_passes - 1) / n_passes;
  const uint32_t buckets = 1u << width;
  const uint64_t mask = buckets - 1;
  auto digit = [&](const KeyedOcc& o, int shift) {
    return static_cast<uint32_t>(((uint64_t{o.ka} << bits | o.kb) >> shift) & mask);
  };
  std::vector<KeyedOcc> a(in.size()), b(in.size());
  std::vector<uint32_t> count;
  // The first pass reads the occurrences themselves, keys mapped on the way.
  count.assign(buckets + 1, 0);
  in.ForEach([&](const auto& o) { ++count[digit(KeyedOcc{key_of[o.a], key_of[o.b], 0, 0}, 0) + 1]; });
  for (uint32_t i = 0; i < buckets; ++i) count[i + 1] += count[i];
  in.ForEach([&](const auto& o) {
    const KeyedOcc k{key_of[o.a], key_of[o.b], o.doc, o.freq};
    a[count[digit(k, 0)]++] = k;
  });
  for (int pass = 1; pass < n_passes; ++pass) {
    const int shift = pass * width;
    count.assign(buckets + 1, 0);
    for (const auto& o : a) ++count[digit(o, shift) + 1];
    for (uint32_t j = 0; j < buckets; ++j) count[j + 1] += count[j];
    for (const auto& o : a) b[count[digit(o, shift)]++] = o;
    a.swap(b);
  }
  *out = std::move(a);
}
}  // namespace

// The dictionary (front-coded entries in blocks of up to kDictBlock terms,
// a df == 1 posting kept inline) and the posting lists of a run of terms
// given in order, built side by side.
struct EncodedTerms {
  std::string dict, post;
  std::vector<segfmt::DictBlock> blocks;
  uint64_t n_terms = 0;
  // A big merge spills its postings: once `post` passes spill_at bytes
  // (between two lists), it is appended to the scratch file spill_fd and
  // emptied; `spilled` bytes come before what `post` holds. The dictionary
  // (a tenth of the postings at a million chunks) stays in memory.
  int spill_fd = -1;
  size_t spill_at = 0;
  uint64_t spilled = 0;
  Status spill_status;
  uint64_t post_size() const { return spilled + post.size(); }
  void Spill() {
    if (!spill_status.ok()) return;
    spill_status = WriteAll(spill_fd, post, "the merge's scratch file");
    if (!spill_status.ok()) return;
    spilled += post.size();
    post.clear();
  }
};

class TermEncoder {
 public:
  TermEncoder(const uint32_t* doc_lens, EncodedTerms* e) : doc_lens_(doc_lens), e_(e) {}
  // `list`: the term's (local doc, tf), docs increasing, not empty.
  void Add(std::string_view term, const std::vector<std::pair<uint32_t, uint32_t>>& list) {
    std::string& dict = e_->dict;
    std::string& post = e_->post;
    if (e_->spill_at && post.size() >= e_->spill_at) e_->Spill();
    // Offsets in the postings count what was spilled; `post` indexes hold
    // within the list being written (it is never spilled half way).
    const uint64_t base = e_->spilled;
    uint32_t prefix = 0;
    if (e_->n_terms % segfmt::kDictBlock == 0) {
      e_->blocks.push_back(segfmt::DictBlock{dict.size(), running_});
    } else {
      const size_t limit = std::min(term.size(), prev_term_.size());
      while (prefix < limit && term[prefix] == prev_term_[prefix]) ++prefix;
    }
    ++e_->n_terms;
    // The entry is put together in `entry_`, then appended once.
    char* q = EncodeVarint(prefix, entry_.data());
    q = EncodeVarint(static_cast<uint32_t>(term.size() - prefix), q);
    std::memcpy(q, term.data() + prefix, term.size() - prefix);
    q += term.size() - prefix;
    prev_term_.assign(term);
    const uint32_t df = static_cast<uint32_t>(list.size());
    q = EncodeVarint(df, q);
    if (df == 1) {
      q = EncodeVarint(list[0].first, q);
      q = EncodeVarint(list[0].second, q);
      dict.append(entry_.data(), q - entry_.data());
      return;
    }
    const uint32_t n_blocks = (df + kBlockSize - 1) / kBlockSize;
    // Lists with skip data start 4-byte aligned (BlockMeta is read in place).
    if (n_blocks > 1) post.resize(((base + post.size() + 3) & ~uint64_t{3}) - base, '\0');
    const uint64_t gap = base + post.size() - running_;
    running_ = base + post.size();
    uint32_t max_tf = 0, min_len = UINT32_MAX;
    const size_t metas_at = post.size();
    if (n_blocks > 1) post.resize(post.size() + n_blocks * sizeof(BlockMeta));
    uint32_t prev = 0;
    for (uint32_t b = 0; b < n_blocks; ++b) {
      BlockMeta m{};
      m.min_len = UINT32_MAX;
      char* w = block_;
      const size_t lo = size_t{b} * kBlockSize, hi = std::min<size_t>(df, lo + kBlockSize);
      for (size_t k = lo; k < hi; ++k) {
        w = EncodeVarint(list[k].first - prev, w);
        prev = list[k].first;
        m.max_tf = std::max(m.max_tf, list[k].second);
        m.min_len = std::min(m.min_len, doc_lens_[list[k].first]);
      }
      for (size_t k = lo; k < hi; ++k) w = EncodeVarint(list[k].second, w);
      m.last_doc = prev;
      m.data = static_cast<uint32_t>(post.size() - metas_at);
      post.append(block_, w - block_);
      if (n_blocks > 1) std::memcpy(&post[metas_at + b * sizeof(BlockMeta)], &m, sizeof(m));
      max_tf = std::max(max_tf, m.max_tf);
      min_len = std::min(min_len, m.min_len);
    }
    q = EncodeVarint(max_tf, q);
    q = EncodeVarint(min_len, q);
    q = EncodeVarint(static_cast<uint32_t>(gap), q);
    dict.append(entry_.data(), q - entry_.data());
  }

 private:
  const uint32_t* doc_lens_;
  EncodedTerms* e_;
  std::string prev_term_;
  std::vector<char> entry_ = std::vector<char>(segfmt::kMaxTermLen + 8 * 5);  // one dictionary entry
  char block_[kBlockSize * 2 * 5];                                          // one posting block
  uint64_t running_ = 0;
};

// The header (filled in later) and the doc tables of a segment; `h` gets
// their offsets.
std::string HeaderAndDocs(const std::vector<uint32_t>& doc_lens, const std::vector<int64_t>& chunk_ids,
                          const std::vector<int64_t>& doc_ids, const std::vector<int64_t>& updated_at,
                          segfmt::Header* hp) {
  segfmt::Header& h = *hp;
  const uint32_t n_docs = static_cast<uint32_t>(doc_lens.size());
  std::memcpy(h.magic, segfmt::kMagic, sizeof(h.magic));
  h.version = segfmt::kVersion;
  h.n_docs = n_docs;

  std::string out(sizeof(segfmt::Header), '\0');
  h.off_doc_lens = out.size();
  Append(&out, doc_lens.data(), n_docs);
  for (uint32_t l : doc_lens) h.total_len += l;
  Align8(&out);
  h.off_chunk_ids = out.size();
  Append(&out, chunk_ids.data(), n_docs);
  h.off_doc_ids = out.size();
  Append(&out, doc_ids.data(), n_docs);
  h.off_updated_at = out.size();
  Append(&out, updated_at.data(), n_docs);

  std::vector<segfmt::DocLookup> lookup(n_docs);
  for (uint32_t i = 0; i < n_docs; ++i) lookup[i] = {doc_ids[i], i, 0};
  std::sort(lookup.begin(), lookup.end(), [](const auto& a, const auto& b) {
    return a.doc_id != b.doc_id ? a.doc_id < b.doc_id : a.local < b.local;
  });
  h.off_doc_lookup = out.size();
  Append(&out, lookup.data(), n_docs);
  return out;
}

// Lays the encoded term ranges after `out` (header and doc tables), then
// the facets, and writes the file.
Status AssembleSegment(const std::string& path, std::string out, segfmt::Header h,
                       std::vector<EncodedTerms>& ranges, std::map<std::string, Roaring>& facets) {
  const size_t n_ranges = ranges.size();
  // Laid end to end: block offsets move by the sizes before them (posting
  // ranges start 8-byte aligned, so aligned lists stay aligned).
  std::vector<segfmt::DictBlock> blocks;
  uint64_t dict_size = 0, post_size = 0, n_terms = 0;
  std::vector<uint64_t> post_at(n_ranges);
  for (size_t r = 0; r < n_ranges; ++r) {
    post_at[r] = post_size;
    for (const auto& blk : ranges[r].blocks)
      blocks.push_back(segfmt::DictBlock{blk.dict + dict_size, blk.post_base + post_size});
    dict_size += ranges[r].dict.size();
    post_size = (post_size + ranges[r].post_size() + 7) & ~uint64_t{7};
    n_terms += ranges[r].n_terms;
  }
  blocks.push_back(segfmt::DictBlock{dict_size, post_size});  // the end marker
  h.n_terms = n_terms;
  h.n_dict_blocks = blocks.size() - 1;
  Align8(&out);
  h.off_dict_index = out.size();
  Append(&out, blocks.data(), blocks.size());
  // The file is written as pieces: the dictionary and postings are not
  // copied once more into one buffer (spilled postings are copied from
  // their scratch file by the kernel).
  static const char kZeros[8] = {};
  std::vector<FilePiece> pieces;
  uint64_t size = 0;
  auto add = [&](std::string_view v) {
    if (!v.empty()) pieces.push_back(FilePiece{v});
    size += v.size();
  };
  auto pad_to = [&](uint64_t at) { add(std::string_view(kZeros, at - size)); };
  add(out);  // the header is filled in below, in place
  h.off_dict = size;
  for (const auto& r : ranges) add(r.dict);
  pad_to((size + 7) & ~uint64_t{7});
  h.off_postings = size;
  for (size_t r = 0; r < n_ranges; ++r) {
    pad_to(h.off_postings + post_at[r]);
    SAVOIR_RETURN_IF_ERROR(ranges[r].spill_status);
    if (ranges[r].spilled) {
      pieces.push_back(FilePiece{{}, ranges[r].spill_fd, ranges[r].spilled});
      size += ranges[r].spilled;
    }
    add(ranges[r].post);
  }
  pad_to((size + 7) & ~uint64_t{7});

  h.off_facets = size;
  std::string tail;
  uint32_t n_facets = static_cast<uint32_t>(facets.size());
  Append(&tail, &n_facets, 1);
  for (auto& [name, bm] : facets) {
    bm.runOptimize();
    uint32_t name_len = static_cast<uint32_t>(name.size());
    Append(&tail, &name_len, 1);
    tail += name;
    uint32_t sz = static_cast<uint32_t>(bm.getSizeInBytes(/*portable=*/true));
    Append(&tail, &sz, 1);
    size_t at = tail.size();
    tail.resize(at + sz);
    bm.write(&tail[at], /*portable=*/true);
  }
  add(tail);
  h.file_size = size;
  std::memcpy(out.data(), &h, sizeof(h));
  return WriteFileAtomic(path, pieces);
}

Status SegmentWriter::WriteParts(const std::vector<const SegmentWriter*>& parts, const std::string& path) {
  uint64_t total_docs = 0;
  std::vector<uint32_t> doc_base;
  for (const SegmentWriter* w : parts) {
    doc_base.push_back(static_cast<uint32_t>(total_docs));
    total_docs += w->size();
  }
  if (total_docs >= UINT32_MAX) return Status(ErrorKind::kInvalidArgument, "too many chunks for one segment");
  const uint32_t n_docs = static_cast<uint32_t>(total_docs);
  std::vector<uint32_t> doc_lens;
  std::vector<int64_t> chunk_ids, doc_ids, updated_at;
  doc_lens.reserve(n_docs);
  chunk_ids.reserve(n_docs);
  doc_ids.reserve(n_docs);
  updated_at.reserve(n_docs);
  for (const SegmentWriter* w : parts) {
    doc_lens.insert(doc_lens.end(), w->doc_lens_.begin(), w->doc_lens_.end());
    chunk_ids.insert(chunk_ids.end(), w->chunk_ids_.begin(), w->chunk_ids_.end());
    doc_ids.insert(doc_ids.end(), w->doc_ids_.begin(), w->doc_ids_.end());
    updated_at.insert(updated_at.end(), w->updated_at_.begin(), w->updated_at_.end());
  }

  segfmt::Header h{};
  std::string out = HeaderAndDocs(doc_lens, chunk_ids, doc_ids, updated_at, &h);

  // Term order, in four steps (see segment.h):
  // 1. per part: postings grouped by term into runs (a counting sort for
  //    words, which keeps each word's docs in increasing order), and its
  //    ranked texts sorted. Ranked are the words, or, when some word holds
  //    a byte <= ' ', every term with postings as built text;
  // 2. the ranked texts of all parts merged: a global rank each (a text
  //    held by several parts gets one rank);
  // 3. per part: every run gets its integer key, runs sorted by key (pairs
  //    grouped by a radix sort on their words' ranks);
  // 4. the parts' runs merged by key and encoded, in ranges on every core.
  bool pair_order = true;
  for (const SegmentWriter* w : parts) pair_order = pair_order && !w->low_bytes_;
  struct Run {
    uint64_t key;
    uint32_t begin, end;  // its (doc, tf) in Part::grouped
  };
  struct Part {
    std::vector<std::pair<uint32_t, uint32_t>> grouped;  // (local doc, tf)
    std::vector<Run> runs;          // words with postings (by id), then pairs; sorted in step 3
    std::vector<KeyedOcc> pairs;    // pair_order off: pair occurrences grouped by word ids
    std::string built;              // pair_order off: the runs' texts
    std::vector<uint32_t> built_at;  // run -> start in built (+ end)
    std::vector<SortKey> by_text;   // ranked items (word ids, or runs) sorted by text
    std::vector<uint32_t> rank;     // ranked item -> global rank
  };
  std::vector<Part> sorted(parts.size());
  auto ranked_text = [&](size_t p, uint32_t item) -> std::string_view {
    const Part& part = sorted[p];
    if (pair_order) return parts[p]->TermText(item);
    return std::string_view(part.built).substr(part.built_at[item], part.built_at[item + 1] - part.built_at[item]);
  };
  auto on_parts = [&](const std::function<void(size_t)>& fn) {
    std::vector<std::thread> threads;
    for (size_t p = 1; p < parts.size(); ++p) threads.emplace_back(fn, p);
    if (!parts.empty()) fn(0);
    for (auto& t : threads) t.join();
  };
  // Groups sorted keyed pair occurrences into runs (equal (ka, kb) one run,
  // equal docs one posting).
  auto group_pairs = [](const std::vector<KeyedOcc>& occ, Part* part, std::vector<Run>* runs) {
    for (size_t i = 0; i < occ.size();) {
      const uint32_t ka = occ[i].ka, kb = occ[i].kb;
      Run run{0, static_cast<uint32_t>(part->grouped.size()), 0};
      for (; i < occ.size() && occ[i].ka == ka && occ[i].kb == kb; ++i) {
        if (part->grouped.size() > run.begin && part->grouped.back().first == occ[i].doc)
          part->grouped.back().second += occ[i].freq;
        else
          part->grouped.emplace_back(occ[i].doc, occ[i].freq);
      }
      run.end = static_cast<uint32_t>(part->grouped.size());
      run.key = uint64_t{ka} << 32 | kb;  // the caller's key comes in step 3
      runs->push_back(run);
    }
  };
  // Step 1.
  on_parts([&](size_t p) {
    const SegmentWriter& w = *parts[p];
    Part& part = sorted[p];
    const uint32_t count = w.n_terms();
    std::vector<uint32_t> start(count + 1, 0);
    w.postings_.ForEach([&](const Posting& x) { ++start[x.term + 1]; });
    for (uint32_t t = 0; t < count; ++t) start[t + 1] += start[t];
    part.grouped.reserve(w.postings_.size() + w.pairs_.size());
    part.grouped.resize(w.postings_.size());
    std::vector<uint32_t> fill(start.begin(), start.end() - 1);
    w.postings_.ForEach([&](const Posting& x) { part.grouped[fill[x.term]++] = {x.doc, x.freq}; });
    part.runs.reserve(count);
    for (uint32_t t = 0; t < count; ++t) part.runs.push_back(Run{t, start[t], start[t + 1]});  // key = word id
    if (pair_order) {
      part.by_text.reserve(count);
      for (uint32_t t = 0; t < count; ++t) part.by_text.push_back(KeyOf(w.TermText(t), t));
    } else {
      // Pairs grouped by word ids; every run with postings gets its text.
      std::vector<uint32_t> identity(count);
      for (uint32_t t = 0; t < count; ++t) identity[t] = t;
      std::vector<KeyedOcc> occ;
      RadixSortPairs(w.pairs_, identity, count, &occ);
      group_pairs(occ, &part, &part.runs);
      part.built_at.reserve(part.runs.size() + 1);
      for (uint32_t r = 0; r < part.runs.size(); ++r) {
        part.built_at.push_back(static_cast<uint32_t>(part.built.size()));
        const Run& run = part.runs[r];
        if (r < count) {
          part.built += w.TermText(r);
        } else {
          part.built += w.TermText(static_cast<uint32_t>(run.key >> 32));
          part.built += ' ';
          part.built += w.TermText(static_cast<uint32_t>(run.key));
        }
      }
      part.built_at.push_back(static_cast<uint32_t>(part.built.size()));
      for (uint32_t r = 0; r < part.runs.size(); ++r)
        if (part.runs[r].begin != part.runs[r].end) part.by_text.push_back(KeyOf(ranked_text(p, r), r));
    }
    SortOnTwo(part.by_text, [&](const SortKey& a, const SortKey& b) {
      if (a.hi != b.hi) return a.hi < b.hi;
      if (a.lo != b.lo) return a.lo < b.lo;
      return ranked_text(p, a.id) < ranked_text(p, b.id);
    });
  });
  // Step 2: the parts' sorted lists merged; rank_text[rank] is its text.
  std::vector<std::string_view> rank_text;
  {
    std::vector<size_t> head(parts.size(), 0);
    for (size_t p = 0; p < parts.size(); ++p)
      sorted[p].rank.assign(pair_order ? parts[p]->n_terms() : sorted[p].runs.size(), 0);
    for (;;) {
      const SortKey* min = nullptr;
      size_t min_part = 0;
      std::string_view min_text;
      for (size_t p = 0; p < parts.size(); ++p) {
        if (head[p] == sorted[p].by_text.size()) continue;
        const SortKey& k = sorted[p].by_text[head[p]];
        if (min && (k.hi != min->hi ? k.hi > min->hi : k.lo > min->lo)) continue;
        const std::string_view text = ranked_text(p, k.id);
        if (!min || k.hi != min->hi || k.lo != min->lo || text < min_text) {
          min = &k;
          min_part = p;
          min_text = text;
        }
      }
      if (!min) break;
      const SortKey key = *min;
      const uint32_t rank = static_cast<uint32_t>(rank_text.size());
      rank_text.push_back(min_text);
      for (size_t p = 0; p < parts.size(); ++p) {
        if (head[p] == sorted[p].by_text.size()) continue;
        const SortKey& k = sorted[p].by_text[head[p]];
        if (k.hi != key.hi || k.lo != key.lo || (p != min_part && ranked_text(p, k.id) != min_text)) continue;
        sorted[p].rank[k.id] = rank;
        ++head[p];
      }
    }
  }
  // Step 3.
  on_parts([&](size_t p) {
    const SegmentWriter& w = *parts[p];
    Part& part = sorted[p];
    if (!pair_order) {
      std::vector<Run> runs;
      runs.reserve(part.runs.size());
      for (uint32_t r = 0; r < part.runs.size(); ++r)
        if (part.runs[r].begin != part.runs[r].end) runs.push_back(Run{part.rank[r], part.runs[r].begin, part.runs[r].end});
      std::sort(runs.begin(), runs.end(), [](const Run& a, const Run& b) { return a.key < b.key; });
      part.runs.swap(runs);
      return;
    }
    // Words in rank order, which is their text order (a word seen only
    // inside pairs has no run).
    std::vector<Run> word_runs;
    word_runs.reserve(part.by_text.size());
    for (const SortKey& k : part.by_text) {
      const Run& run = part.runs[k.id];
      if (run.begin != run.end) word_runs.push_back(Run{uint64_t{part.rank[k.id]} << 33, run.begin, run.end});
    }
    part.by_text = {};
    // Pairs by (rank a, rank b).
    std::vector<KeyedOcc> occ;
    RadixSortPairs(w.pairs_, part.rank, static_cast<uint32_t>(rank_text.size()), &occ);
    std::vector<Run> pair_runs;
    group_pairs(occ, &part, &pair_runs);
    for (Run& run : pair_runs) run.key = (run.key >> 32) << 33 | uint64_t{1} << 32 | (run.key & 0xFFFFFFFFu);
    part.runs.clear();
    part.runs.reserve(word_runs.size() + pair_runs.size());
    std::merge(word_runs.begin(), word_runs.end(), pair_runs.begin(), pair_runs.end(), std::back_inserter(part.runs),
               [](const Run& a, const Run& b) { return a.key < b.key; });
  });

  // Step 4. The dictionary (front-coded entries in blocks of up to
  // kDictBlock terms, a df == 1 posting kept inline) and the posting lists,
  // built side by side while the parts' runs are merged. Ranges of terms are
  // encoded on their own threads (each range closes its last block), then
  // laid end to end.
  auto build_term = [&](uint64_t key, std::string* out) {
    out->clear();
    if (!pair_order) {
      out->append(rank_text[key]);
      return;
    }
    out->append(rank_text[key >> 33]);
    if (key & (uint64_t{1} << 32)) {
      out->push_back(' ');
      out->append(rank_text[key & 0xFFFFFFFFu]);
    }
  };
  // Encodes the runs at positions [head[p], to[p]) of every part.
  auto encode = [&](std::vector<size_t> head, const std::vector<size_t>& to, EncodedTerms* e) {
    {
      // About 10 bytes a dictionary entry and 3 a posting: no regrowth.
      uint64_t n_runs = 0, n_postings = 0;
      for (size_t p = 0; p < parts.size(); ++p) {
        n_runs += to[p] - head[p];
        for (size_t r = head[p]; r < to[p]; ++r) n_postings += sorted[p].runs[r].end - sorted[p].runs[r].begin;
      }
      e->dict.reserve(n_runs * 10);
      e->post.reserve(n_postings * 3);
    }
    TermEncoder encoder(doc_lens.data(), e);
    std::vector<std::pair<uint32_t, uint32_t>> list;
    std::string term;
    for (;;) {
      // The smallest key among the parts' heads, and every part holding it.
      uint64_t min = UINT64_MAX;
      size_t min_part = parts.size();
      for (size_t p = 0; p < parts.size(); ++p) {
        if (head[p] == to[p]) continue;
        const uint64_t k = sorted[p].runs[head[p]].key;
        if (min_part == parts.size() || k < min) {
          min = k;
          min_part = p;
        }
      }
      if (min_part == parts.size()) break;
      build_term(min, &term);
      list.clear();
      for (size_t p = min_part; p < parts.size(); ++p) {
        if (head[p] == to[p] || sorted[p].runs[head[p]].key != min) continue;
        const Run& run = sorted[p].runs[head[p]++];
        for (uint32_t i = run.begin; i < run.end; ++i)
          list.emplace_back(sorted[p].grouped[i].first + doc_base[p], sorted[p].grouped[i].second);
      }
      encoder.Add(term, list);
    }
  };

  // Range bounds: quantiles of the largest part's runs, found in every part
  // by binary search (a term shared by parts lands in one range).
  size_t most = 0;
  for (size_t p = 1; p < parts.size(); ++p)
    if (sorted[p].runs.size() > sorted[most].runs.size()) most = p;
  const size_t n_most = parts.empty() ? 0 : sorted[most].runs.size();
  const size_t n_ranges =
      n_most >= 8192 ? std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4) : 1;
  std::vector<std::vector<size_t>> bounds(n_ranges + 1, std::vector<size_t>(parts.size(), 0));
  for (size_t p = 0; p < parts.size(); ++p) bounds[n_ranges][p] = sorted[p].runs.size();
  for (size_t r = 1; r < n_ranges; ++r) {
    const uint64_t pivot = sorted[most].runs[n_most * r / n_ranges].key;
    for (size_t p = 0; p < parts.size(); ++p) {
      const auto& runs = sorted[p].runs;
      auto it = std::lower_bound(runs.begin(), runs.end(), pivot, [](const Run& a, uint64_t k) { return a.key < k; });
      bounds[r][p] = std::max(bounds[r - 1][p], static_cast<size_t>(it - runs.begin()));
    }
  }
  std::vector<EncodedTerms> ranges(n_ranges);
  {
    std::vector<std::thread> threads;
    for (size_t r = 1; r < n_ranges; ++r) threads.emplace_back(encode, bounds[r], std::cref(bounds[r + 1]), &ranges[r]);
    if (n_ranges > 0) encode(bounds[0], bounds[1], &ranges[0]);
    for (auto& t : threads) t.join();
  }
  std::map<std::string, Roaring> facets;
  for (size_t p = 0; p < parts.size(); ++p) {
    for (const auto& [name, bm] : parts[p]->facets_) {
      Roaring& all = facets[name];
      if (doc_base[p] == 0) {
        all |= bm;
      } else {
        std::vector<uint32_t> shifted;
        shifted.reserve(bm.cardinality());
        for (uint32_t local : bm) shifted.push_back(local + doc_base[p]);
        all.addMany(shifted.size(), shifted.data());
      }
    }
  }
  return AssembleSegment(path, std::move(out), h, ranges, facets);
}

Status SegmentWriter::WriteMerged(const std::vector<const Segment*>& sources,
                                  const std::vector<std::vector<uint32_t>>& remap, const std::string& path,
                                  uint64_t spill_above) const {
  if (!term_len_.empty() || !postings_.empty() || !pairs_.empty())
    return Status(ErrorKind::kInternal, "WriteMerged: the writer must hold docs and facets only");
  segfmt::Header h{};
  std::string out = HeaderAndDocs(doc_lens_, chunk_ids_, doc_ids_, updated_at_, &h);
  std::vector<EncodedTerms> ranges(1);
  uint64_t post = 0;
  {
    uint64_t dict = 0;
    for (const Segment* s : sources) {
      dict += s->dict_bytes();
      post += s->postings_bytes();
    }
    ranges[0].dict.reserve(dict);
  }
  // Postings past spill_above bytes go through a scratch file next to the
  // segment, 8 MB at a time: the merge holds its dictionary, not its
  // postings (350 of the 380 MB of a 650,000-chunk merge).
  struct Fd {
    int fd = -1;
    ~Fd() {
      if (fd >= 0) ::close(fd);
    }
  } scratch;
  if (post > spill_above) {
    SAVOIR_ASSIGN_OR_RETURN(scratch.fd, OpenScratchFile(std::filesystem::path(path).parent_path().string()));
    ranges[0].spill_fd = scratch.fd;
    ranges[0].spill_at = std::max<size_t>(1, std::min<uint64_t>(spill_above, size_t{8} << 20));
    ranges[0].post.reserve(ranges[0].spill_at + (size_t{1} << 16));
  } else {
    ranges[0].post.reserve(post);
  }
  TermEncoder encoder(doc_lens_.data(), &ranges[0]);
  std::vector<Segment::TermIterator> heads;
  heads.reserve(sources.size());
  for (const Segment* s : sources) heads.push_back(s->Terms());
  std::vector<std::pair<uint32_t, uint32_t>> list;
  std::string term;
  for (;;) {
    // The smallest term among the heads (byte order, as every dictionary
    // is sorted), then every source holding it, in source (= doc) order.
    size_t min = heads.size();
    for (size_t s = 0; s < heads.size(); ++s)
      if (heads[s].Valid() && (min == heads.size() || heads[s].term() < heads[min].term())) min = s;
    if (min == heads.size()) break;
    term.assign(heads[min].term());
    list.clear();
    for (size_t s = min; s < heads.size(); ++s) {
      if (!heads[s].Valid() || heads[s].term() != term) continue;
      for (PostingCursor c = sources[s]->Postings(heads[s].info()); c.doc() != PostingCursor::kEnd; c.Next())
        if (const uint32_t d = remap[s][c.doc()]; d != PostingCursor::kEnd) list.emplace_back(d, c.freq());
      heads[s].Next();
    }
    if (!list.empty() && term.size() <= segfmt::kMaxTermLen) encoder.Add(term, list);
  }
  std::map<std::string, Roaring> facets = facets_;
  return AssembleSegment(path, std::move(out), h, ranges, facets);
}

// ---------------------------------------------------------------- reader

Result<std::shared_ptr<Segment>> Segment::Open(const std::string& path, bool just_written) {
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
  if (std::memcmp(h.magic, segfmt::kMagic, 5) == 0 && h.version != segfmt::kVersion)
    return Status(ErrorKind::kCorrupt, "segment " + path + " has format version " + std::to_string(h.version) +
                                           ", this build reads version " + std::to_string(segfmt::kVersion) +
                                           " (the index is rebuilt from the store)");
  if (std::memcmp(h.magic, segfmt::kMagic, 8) != 0 || h.version != segfmt::kVersion ||
      h.file_size != seg->size_ || h.off_facets >= seg->size_) {
    return Status(ErrorKind::kCorrupt, "segment " + path + " has a bad header");
  }
  if (!just_written)
    if (Status s = ValidateSegment(seg->base_, h, path); !s.ok()) return s;
  seg->doc_lens_ = reinterpret_cast<const uint32_t*>(seg->base_ + h.off_doc_lens);
  seg->chunk_ids_ = reinterpret_cast<const int64_t*>(seg->base_ + h.off_chunk_ids);
  seg->doc_ids_ = reinterpret_cast<const int64_t*>(seg->base_ + h.off_doc_ids);
  seg->updated_at_ = reinterpret_cast<const int64_t*>(seg->base_ + h.off_updated_at);
  seg->lookup_ = reinterpret_cast<const segfmt::DocLookup*>(seg->base_ + h.off_doc_lookup);
  seg->dict_index_ = reinterpret_cast<const segfmt::DictBlock*>(seg->base_ + h.off_dict_index);
  seg->dict_ = seg->base_ + h.off_dict;
  seg->dict_end_ = seg->base_ + h.off_postings;
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

std::string_view Segment::BlockFirstTerm(uint64_t b) const {
  // The first entry of a block has no shared prefix: its term is whole.
  const uint8_t* p = dict_ + dict_index_[b].dict;
  uint32_t prefix = 0, len = 0;
  ReadVarint(p, dict_end_, &prefix);
  ReadVarint(p, dict_end_, &len);
  return std::string_view(reinterpret_cast<const char*>(p), len);
}

std::optional<TermInfo> Segment::Find(std::string_view t) const {
  // The last block whose first term is <= t, then a scan of that block.
  uint64_t lo = 0, hi = header_->n_dict_blocks;
  while (lo < hi) {
    uint64_t mid = (lo + hi) / 2;
    if (BlockFirstTerm(mid) <= t) lo = mid + 1; else hi = mid;
  }
  if (lo == 0) return std::nullopt;
  return FindInBlock(lo - 1, t);
}

namespace {
// The first 8 bytes of a term, big-endian, zero padded: for terms that
// differ in them, the order of these keys is the order of the terms.
uint64_t HeadKey(std::string_view t) {
  uint64_t k = 0;
  for (size_t i = 0; i < 8; ++i) k = (k << 8) | (i < t.size() ? static_cast<unsigned char>(t[i]) : 0u);
  return k;
}
}  // namespace

std::optional<TermInfo> Segment::FindIndexed(std::string_view t) const {
  std::call_once(heads_once_, [this] {
    heads_.resize(header_->n_dict_blocks);
    for (uint64_t b = 0; b < heads_.size(); ++b) heads_[b] = HeadKey(BlockFirstTerm(b));
  });
  // The last block whose first term is <= t, as Find; only blocks whose
  // head ties with t's compare whole terms.
  const uint64_t key = HeadKey(t);
  uint64_t lo = 0, hi = heads_.size();
  while (lo < hi) {
    const uint64_t mid = (lo + hi) / 2;
    const bool le = heads_[mid] != key ? heads_[mid] < key : BlockFirstTerm(mid) <= t;
    if (le) lo = mid + 1; else hi = mid;
  }
  if (lo == 0) return std::nullopt;
  return FindInBlock(lo - 1, t);
}

std::optional<TermInfo> Segment::FindInBlock(uint64_t b, std::string_view t) const {
  const uint8_t* p = dict_ + dict_index_[b].dict;
  const uint8_t* end = dict_ + dict_index_[b + 1].dict;
  uint64_t running = dict_index_[b].post_base;
  char buf[segfmt::kMaxTermLen];
  uint32_t len = 0;
  DictEntry e;
  while (p < end && DecodeDictEntry(p, end, buf, &len, &running, &e)) {
    int c = std::string_view(buf, len).compare(t);
    if (c > 0) break;
    if (c < 0) continue;
    TermInfo info;
    info.df = e.df;
    if (e.df == 1) {
      info.postings = e.a;
      info.max_tf = e.b;
      info.min_len = doc_lens_[e.a];
    } else {
      info.postings = running;
      info.max_tf = e.a;
      info.min_len = e.b;
    }
    return info;
  }
  return std::nullopt;
}

Segment::TermIterator::TermIterator(const Segment* seg) : seg_(seg), buf_(segfmt::kMaxTermLen, '\0') {
  if (seg->header_->n_terms == 0) return;
  block_ = 0;
  p_ = seg->dict_ + seg->dict_index_[0].dict;
  running_ = seg->dict_index_[0].post_base;
  Next();
}

void Segment::TermIterator::Next() {
  const auto& h = *seg_->header_;
  valid_ = false;
  if (block_ >= h.n_dict_blocks) return;
  const uint8_t* end = seg_->dict_ + seg_->dict_index_[block_ + 1].dict;
  if (p_ == end) {  // on to the next block
    if (++block_ >= h.n_dict_blocks) return;
    p_ = end;
    end = seg_->dict_ + seg_->dict_index_[block_ + 1].dict;
    running_ = seg_->dict_index_[block_].post_base;
    len_ = 0;
  }
  DictEntry e;
  if (!DecodeDictEntry(p_, end, buf_.data(), &len_, &running_, &e)) return;  // validated at Open
  info_ = TermInfo{};
  info_.df = e.df;
  if (e.df == 1) {
    info_.postings = e.a;
    info_.max_tf = e.b;
    info_.min_len = seg_->doc_lens_[e.a];
  } else {
    info_.postings = running_;
    info_.max_tf = e.a;
    info_.min_len = e.b;
  }
  valid_ = true;
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

PostingCursor::PostingCursor(const Segment* seg, const TermInfo& info) : df_(info.df) {
  if (df_ == 0) return;
  n_blocks_ = (df_ + kBlockSize - 1) / kBlockSize;
  if (df_ == 1) {  // the posting is in the dictionary entry
    docs_[0] = static_cast<uint32_t>(info.postings);
    freqs_[0] = info.max_tf;
    one_ = BlockMeta{docs_[0], 0, info.max_tf, info.min_len};
    n_in_block_ = 1;
    doc_ = docs_[0];
    return;
  }
  base_ = seg->postings_base() + info.postings;
  end_ = seg->file_end();
  if (n_blocks_ > 1) metas_ = reinterpret_cast<const BlockMeta*>(base_);
  else one_ = BlockMeta{0, 0, info.max_tf, info.min_len};
  LoadBlock(0);
}

void PostingCursor::LoadBlock(uint32_t b) {
  block_ = b;
  pos_ = 0;
  if (b >= n_blocks_) {
    doc_ = kEnd;
    n_in_block_ = 0;
    return;
  }
  n_in_block_ = b + 1 < n_blocks_ ? kBlockSize : df_ - b * kBlockSize;
  const uint8_t* p = metas_ ? base_ + metas_[b].data : base_;
  uint32_t prev = b ? metas_[b - 1].last_doc : 0;
  // Most gaps of long lists and most tfs take one byte: eight of them at a
  // time when eight bytes in a row have no continuation bit (the bytes are
  // read at once only inside the mapped file).
  constexpr uint64_t kHighBits = 0x8080808080808080ull;
  const uint8_t* const fast_end = end_ ? end_ - 8 : nullptr;  // null: always the slow path
  const uint32_t n = n_in_block_;
  for (uint32_t i = 0; i < n;) {
    uint64_t w;
    if (i + 8 <= n && p <= fast_end && (std::memcpy(&w, p, 8), (w & kHighBits) == 0)) {
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) docs_[i + j] = prev += static_cast<uint32_t>((w >> (8 * j)) & 0xFF);
      i += 8;
      p += 8;
      continue;
    }
    uint32_t d;
    p = GetVarint(p, &d);
    docs_[i++] = prev += d;
  }
  for (uint32_t i = 0; i < n;) {
    uint64_t w;
    if (i + 8 <= n && p <= fast_end && (std::memcpy(&w, p, 8), (w & kHighBits) == 0)) {
#pragma GCC unroll 8
      for (int j = 0; j < 8; ++j) freqs_[i + j] = static_cast<uint32_t>((w >> (8 * j)) & 0xFF);
      i += 8;
      p += 8;
      continue;
    }
    p = GetVarint(p, &freqs_[i++]);
  }
  if (!metas_) one_.last_doc = prev;
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
  if (meta(block_).last_doc < target) {
    uint32_t b = block_ + 1;
    while (b < n_blocks_ && metas_[b].last_doc < target) ++b;
    LoadBlock(b);
    if (doc_ == kEnd) return;
  }
  while (docs_[pos_] < target) ++pos_;
  doc_ = docs_[pos_];
}

const BlockMeta* PostingCursor::BlockFor(uint32_t target) const {
  if (doc_ == kEnd) return nullptr;
  uint32_t b = block_;
  while (b < n_blocks_ && meta(b).last_doc < target) ++b;
  return b < n_blocks_ ? &meta(b) : nullptr;
}

}  // namespace savoir
