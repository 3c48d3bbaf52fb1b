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

#include "common/chunked_vector.h"
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

class Segment;

class SegmentWriter {
 public:
  static constexpr uint32_t kNoTerm = UINT32_MAX;
  void Add(const IndexedChunk& chunk);
  // Lower-level building (the index builder; merges add only docs and
  // facets, then WriteMerged). Docs get consecutive local ids; a term's
  // postings must be added in increasing local order.
  uint32_t AddDoc(int64_t chunk_id, int64_t doc_id, int64_t updated_at, uint32_t doc_len);
  // A handle for `term` in this writer (interned once, e.g. per term of a
  // merged segment) for AddPosting; kNoTerm when it is too long to index.
  uint32_t TermId(std::string_view term);
  void AddPosting(uint32_t term_id, uint32_t local, uint32_t freq);
  // One occurrence of `term` in doc `local`, the doc last added by AddDoc
  // (repeats raise its frequency). Add() is AddDoc + AddTerm per term.
  // Returns the word's id for AddPair; kNoTerm when the term is not one
  // word (too long, or two words "a b", which is a pair).
  uint32_t AddTerm(uint32_t local, std::string_view term);
  // One occurrence of the pair term BigramTerm(a, b) ("a b") of two words
  // AddTerm returned, in doc `local`: recorded as integers; pairs are
  // grouped and their texts built only when the segment is written.
  void AddPair(uint32_t local, uint32_t a, uint32_t b, uint32_t freq = 1);
  // One occurrence in doc `local` of the word TermId() gave (a word, not a
  // pair): AddTerm without interning again.
  void AddOccurrence(uint32_t local, uint32_t word_id) {
    if (word_id == kNoTerm) return;
    if (word_id & kPairBit) AddPosting(word_id, local, 1);  // a pair's text: one more occurrence record
    else Occurs(word_id, local);
  }
  void AddFacet(const std::string& facet, uint32_t local) { facets_[facet].add(local); }
  // Unique to this writer object in the process (addresses are reused).
  uint64_t uid() const { return uid_; }
  uint32_t size() const { return static_cast<uint32_t>(doc_lens_.size()); }
  // Writes the segment to `path` (via a temporary file, fsync, rename).
  Status Write(const std::string& path) const { return WriteParts({this}, path); }
  // Writes one segment holding the docs of every part, in order (local ids
  // of part p shifted by the sizes of the parts before it): slices of a
  // batch built on several threads give the same file as one writer would.
  // The parts' terms are ordered on their own threads and merged, never
  // interned again.
  static Status WriteParts(const std::vector<const SegmentWriter*>& parts, const std::string& path);
  // Writes this writer's docs and facets (it holds no terms) with the terms
  // of `sources`, merged from their dictionaries (each in byte order): a
  // posting of source s goes to doc remap[s][local], or is dropped when that
  // is PostingCursor::kEnd (a deleted doc). One posting list is held at a
  // time, plus the encoded dictionary, never every posting of the merge
  // (which AddPosting would hold: tens of bytes a posting, gigabytes at a
  // million chunks). Past `spill_above` bytes of source postings, the
  // encoded postings go through an unnamed scratch file in path's folder
  // (kSpillAbove: 64 MB; a test passes 0 to spill always).
  static constexpr uint64_t kSpillAbove = uint64_t{64} << 20;
  Status WriteMerged(const std::vector<const Segment*>& sources, const std::vector<std::vector<uint32_t>>& remap,
                     const std::string& path, uint64_t spill_above = kSpillAbove) const;

 private:
  // Words ("text terms") are interned into one arena with an
  // open-addressing table, their postings appended as (term, doc, freq)
  // triples that WriteParts() groups by term with a counting sort. Pairs are
  // not interned at all: each occurrence is an (a, b, doc, freq) record that
  // WriteParts() radix-sorts. No per-term allocation while indexing.
  //
  // Term order without comparing pair texts: while no word holds a byte
  // <= ' ', "a b" sorts right after every word <= a and before every word
  // > a, and pairs sharing `a` sort by b. So a word of rank r has the key
  // (r, 0, 0) and a pair (rank a, 1, rank b): one integer. A word with such
  // a byte (never from the analyzer) makes WriteParts order every term by
  // its built text instead.
  static constexpr uint32_t kPairBit = 0x80000000u, kLowByteBit = 0x40000000u, kLenMask = 0x3FFFFFFFu;
  uint32_t InternText(std::string_view term, bool low_byte);
  // A text "a b" of two plain words as its two word ids; false otherwise.
  bool SplitPair(std::string_view term, uint32_t* a, uint32_t* b, bool* low_byte);
  void Occurs(uint32_t id, uint32_t local) {
    if (last_doc_[id] == local) {
      ++postings_[last_posting_[id]].freq;
      return;
    }
    last_doc_[id] = local;
    last_posting_[id] = static_cast<uint32_t>(postings_.size());
    postings_.push_back(Posting{id, local, 1});
  }
  std::string_view TermText(uint32_t id) const {
    return std::string_view(arena_).substr(term_at_[id], term_len_[id] & kLenMask);
  }
  uint32_t n_terms() const { return static_cast<uint32_t>(term_at_.size()); }
  struct SortKey {
    uint64_t hi, lo;  // the term's first 16 bytes, big-endian, zero padded
    uint32_t id;
  };
  static SortKey KeyOf(std::string_view text, uint32_t id);
  struct Posting {
    uint32_t term, doc, freq;
  };
  struct PairOcc {
    uint32_t a, b, doc, freq;
  };
  struct Slot {
    uint32_t id_plus1;  // 0 = empty
    uint32_t hash;      // low 32 bits of the term's hash (its home slot too)
  };

  std::vector<uint32_t> doc_lens_;
  std::vector<int64_t> chunk_ids_, doc_ids_, updated_at_;
  std::string arena_;
  std::vector<uint32_t> term_at_, term_len_;  // per word: arena offset, length (| kLowByteBit)
  std::vector<Slot> slots_;                   // size is a power of two
  bool low_bytes_ = false;                    // some word holds a byte <= ' '
  // Per word: the last doc Add() saw it in and that posting's index, so a
  // repeated term bumps its frequency in place.
  std::vector<uint32_t> last_doc_, last_posting_;
  ChunkedVector<Posting> postings_;
  ChunkedVector<PairOcc> pairs_;
  std::vector<std::pair<uint32_t, uint32_t>> pair_handles_;  // TermId() of a pair: (a, b)
  std::map<std::string, Roaring> facets_;
  uint64_t uid_ = NextUid();
  static uint64_t NextUid();
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
  const uint8_t* end_ = nullptr;  // end of the mapped file
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
  // Bytes of the dictionary and of the posting lists.
  uint64_t dict_bytes() const { return header_->off_postings - header_->off_dict; }
  uint64_t postings_bytes() const { return header_->off_facets - header_->off_postings; }
  // The end of the mapped file: reads of several bytes at once stop there.
  const uint8_t* file_end() const { return base_ + size_; }

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
