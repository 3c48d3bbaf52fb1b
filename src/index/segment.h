// An immutable keyword-index segment: written once by SegmentWriter,
// memory-mapped read-only by Segment. Deletions live outside (a bitmap the
// KeywordIndex keeps per segment), so a segment file never changes.
#pragma once

#include <roaring/roaring.hh>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "index/segment_format.h"

namespace savoir {

// One chunk as the index sees it.
struct IndexedChunk {
  int64_t chunk_id = 0;
  int64_t doc_id = 0;
  int64_t updated_at = 0;
  std::vector<std::string> terms;   // analyzed terms, in order (with repeats)
  uint32_t length = 0;              // BM25 doc length; 0 means terms.size()
  std::vector<std::string> facets;  // e.g. "acl:public", "acl:group:hr", "src:3", "lang:fr"
};

class SegmentWriter {
 public:
  void Add(const IndexedChunk& chunk);
  // Lower-level building, used by merges. Docs get consecutive local ids;
  // a term's postings must be added in increasing local order.
  uint32_t AddDoc(int64_t chunk_id, int64_t doc_id, int64_t updated_at, uint32_t doc_len);
  void AddPosting(std::string_view term, uint32_t local, uint32_t freq);
  // One occurrence of `term` in doc `local`, the doc last added by AddDoc
  // (repeats raise its frequency). Add() is AddDoc + AddTerm per term.
  void AddTerm(uint32_t local, std::string_view term);
  void AddFacet(const std::string& facet, uint32_t local) { facets_[facet].add(local); }
  uint32_t size() const { return static_cast<uint32_t>(doc_lens_.size()); }
  // Writes the segment to `path` (via a temporary file, fsync, rename).
  Status Write(const std::string& path) const { return WriteParts({this}, path); }
  // Writes one segment holding the docs of every part, in order (local ids
  // of part p shifted by the sizes of the parts before it): slices of a
  // batch built on several threads give the same file as one writer would.
  // The parts' terms are sorted on their own threads and merged, never
  // interned again.
  static Status WriteParts(const std::vector<const SegmentWriter*>& parts, const std::string& path);

 private:
  // Terms are interned into one arena with an open-addressing table, and
  // postings are appended as (term, doc, freq) triples that WriteParts()
  // groups by term with a counting sort: no per-term allocation while
  // indexing.
  uint32_t Intern(std::string_view term);
  struct SortKey {
    uint64_t hi, lo;  // the term's first 16 bytes, big-endian, zero padded
    uint32_t id;
  };
  static SortKey KeyOf(std::string_view text, uint32_t id);
  static bool KeyLess(const SortKey& a, std::string_view a_text, const SortKey& b, std::string_view b_text) {
    if (a.hi != b.hi) return a.hi < b.hi;
    if (a.lo != b.lo) return a.lo < b.lo;
    return a_text < b_text;
  }
  std::vector<SortKey> SortedTerms() const;
  std::string_view TermText(uint32_t id) const {
    return std::string_view(arena_).substr(term_offsets_[id], term_offsets_[id + 1] - term_offsets_[id]);
  }
  uint32_t n_terms() const { return static_cast<uint32_t>(term_offsets_.size() - 1); }
  struct Posting {
    uint32_t term, doc, freq;
  };
  struct Slot {
    uint32_t id_plus1;  // 0 = empty
    uint32_t hash;      // low 32 bits of the term's hash (its home slot too)
  };

  std::vector<uint32_t> doc_lens_;
  std::vector<int64_t> chunk_ids_, doc_ids_, updated_at_;
  std::string arena_;
  std::vector<uint32_t> term_offsets_ = {0};  // term id -> start in arena_ (+ end sentinel)
  std::vector<Slot> slots_;                   // size is a power of two
  // Per term: the last doc Add() saw it in and that posting's index, so a
  // repeated term bumps its frequency in place.
  std::vector<uint32_t> last_doc_, last_posting_;
  std::vector<Posting> postings_;
  std::map<std::string, Roaring> facets_;
};

class Segment;

// A term's dictionary entry, decoded.
struct TermInfo {
  uint64_t postings = 0;  // df >= 2: list offset in the postings section; df == 1: the doc
  uint32_t df = 0;
  uint32_t max_tf = 0;    // over the whole list: for the term's score upper bound
  uint32_t min_len = 0;
};

// Iterates one term's postings in doc order, block by block.
class PostingCursor {
 public:
  static constexpr uint32_t kEnd = UINT32_MAX;
  PostingCursor() = default;
  PostingCursor(const Segment* seg, const TermInfo& info);

  uint32_t doc() const { return doc_; }
  uint32_t freq() const { return freqs_[pos_]; }
  void Next();
  // Moves to the first doc >= target (never backwards).
  void Advance(uint32_t target);
  // Skip data for block-max bounds: the block containing the current doc.
  const segfmt::BlockMeta& block() const { return meta(block_); }
  // The last doc of the block that would contain `target` (kEnd if none),
  // and that block's bound data, without decoding it.
  const segfmt::BlockMeta* BlockFor(uint32_t target) const;
  uint32_t df() const { return df_; }
  // Skip data of block b < n_blocks() (lists of one block have none on
  // disk: the cursor's own copy stands in, valid while the cursor lives).
  uint32_t n_blocks() const { return n_blocks_; }
  const segfmt::BlockMeta& meta(uint32_t b) const { return metas_ ? metas_[b] : one_; }
  uint32_t block_index() const { return block_; }
  // The decoded block, for loops that walk it directly (bm25.cc): its docs
  // and tfs, block_size() of each; the cursor's position is block_pos().
  const uint32_t* block_docs() const { return docs_; }
  const uint32_t* block_freqs() const { return freqs_; }
  uint32_t block_size() const { return n_in_block_; }
  uint32_t block_pos() const { return pos_; }
  // Decodes block b > block_index() and moves to its first doc; false (and
  // doc() == kEnd) when b is past the last block.
  bool SeekBlock(uint32_t b) {
    LoadBlock(b);
    return doc_ != kEnd;
  }

 private:
  void LoadBlock(uint32_t b);

  const segfmt::BlockMeta* metas_ = nullptr;
  const uint8_t* base_ = nullptr;
  segfmt::BlockMeta one_{};
  uint32_t df_ = 0, n_blocks_ = 0;
  uint32_t block_ = 0, n_in_block_ = 0, pos_ = 0;
  uint32_t doc_ = kEnd;
  uint32_t docs_[segfmt::kBlockSize];
  uint32_t freqs_[segfmt::kBlockSize];
};

class Segment {
 public:
  // Maps a segment file. Every offset it holds is checked first (a damaged
  // file fails with kCorrupt) unless `just_written`: a file this process
  // wrote and synced a moment ago (a commit or merge) is not decoded twice.
  static Result<std::shared_ptr<Segment>> Open(const std::string& path, bool just_written = false);
  ~Segment();
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  uint32_t n_docs() const { return header_->n_docs; }
  uint64_t total_len() const { return header_->total_len; }
  uint32_t doc_len(uint32_t local) const { return doc_lens_[local]; }
  int64_t chunk_id(uint32_t local) const { return chunk_ids_[local]; }
  int64_t doc_id(uint32_t local) const { return doc_ids_[local]; }
  int64_t updated_at(uint32_t local) const { return updated_at_[local]; }
  const std::string& path() const { return path_; }

  // Term dictionary lookup (binary search over dictionary blocks, then a
  // scan of one block); nullopt when absent.
  std::optional<TermInfo> Find(std::string_view term) const;
  // The same answer as Find, with the binary search done in memory: the
  // first 8 bytes of every block's first term, read from the file once per
  // segment (8 bytes a block), instead of decoding a term on a cold page at
  // each step. For the query path, where it was most of a lookup.
  std::optional<TermInfo> FindIndexed(std::string_view term) const;
  uint64_t n_terms() const { return header_->n_terms; }
  PostingCursor Postings(const TermInfo& info) const { return PostingCursor(this, info); }

  // Every term in byte order (for merges):
  //   for (auto it = seg.Terms(); it.Valid(); it.Next()) use(it.term(), it.info());
  class TermIterator {
   public:
    bool Valid() const { return valid_; }
    void Next();
    std::string_view term() const { return std::string_view(buf_.data(), len_); }
    const TermInfo& info() const { return info_; }

   private:
    friend class Segment;
    explicit TermIterator(const Segment* seg);
    const Segment* seg_;
    uint64_t block_ = 0;  // dictionary block of the next entry
    const uint8_t* p_ = nullptr;
    uint64_t running_ = 0;
    std::string buf_;
    uint32_t len_ = 0;
    TermInfo info_;
    bool valid_ = false;
  };
  TermIterator Terms() const { return TermIterator(this); }

  // Local docs of a stored document (for deletions).
  std::vector<uint32_t> LocalsOfDocument(int64_t doc_id) const;
  // A facet bitmap (empty when the facet is absent).
  const Roaring& Facet(const std::string& name) const;
  const std::unordered_map<std::string, Roaring>& facets() const { return facets_; }

  const uint8_t* postings_base() const { return base_ + header_->off_postings; }

 private:
  Segment() = default;
  std::string_view BlockFirstTerm(uint64_t block) const;
  std::optional<TermInfo> FindInBlock(uint64_t block, std::string_view term) const;

  std::string path_;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  const segfmt::Header* header_ = nullptr;
  const uint32_t* doc_lens_ = nullptr;
  const int64_t* chunk_ids_ = nullptr;
  const int64_t* doc_ids_ = nullptr;
  const int64_t* updated_at_ = nullptr;
  const segfmt::DocLookup* lookup_ = nullptr;
  const segfmt::DictBlock* dict_index_ = nullptr;
  const uint8_t* dict_ = nullptr;
  const uint8_t* dict_end_ = nullptr;
  std::unordered_map<std::string, Roaring> facets_;
  // FindIndexed's block heads: big-endian first 8 bytes, zero padded.
  mutable std::once_flag heads_once_;
  mutable std::vector<uint64_t> heads_;
};

}  // namespace savoir
