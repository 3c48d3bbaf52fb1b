// On-disk layout of an immutable keyword-index segment (little-endian, all
// sections 8-byte aligned, the whole file memory-mapped by SegmentReader).
//
//   Header
//   doc_lens      u32[n_docs]        analyzed length of each chunk (BM25 dl)
//   chunk_ids     i64[n_docs]        store chunk id of each local doc
//   doc_ids       i64[n_docs]        store document id of each local doc
//   updated_at    i64[n_docs]        document update time (unix seconds)
//   doc_lookup    DocLookup[n_docs]  (doc_id, local) sorted by doc_id: deletes
//   term_offsets  u32[n_terms + 1]   into term_blob; terms sorted bytewise
//   term_blob     bytes
//   term_infos    TermInfo[n_terms]
//   postings      per term: BlockMeta[n_blocks], then the blocks' bytes;
//                 a block holds up to kBlockSize docs: LEB128 doc-id deltas
//                 then LEB128 term frequencies.
//   facets        u32 count, then per facet: u32 name_len, name, u32 size,
//                 portable Roaring bitmap of local docs (acl, source, language)
#pragma once

#include <cstdint>

namespace savoir::segfmt {

constexpr char kMagic[8] = {'S', 'V', 'S', 'E', 'G', '0', '0', '1'};
constexpr uint32_t kVersion = 1;
constexpr uint32_t kBlockSize = 128;

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t n_docs;
  uint64_t n_terms;
  uint64_t total_len;  // sum of doc_lens
  uint64_t off_doc_lens, off_chunk_ids, off_doc_ids, off_updated_at, off_doc_lookup;
  uint64_t off_term_offsets, off_term_blob, off_term_infos, off_postings, off_facets;
  uint64_t file_size;
};

struct DocLookup {
  int64_t doc_id;
  uint32_t local;
  uint32_t pad;
};

struct TermInfo {
  uint64_t postings;  // offset of the term's BlockMeta array from off_postings
  uint32_t df;
  uint32_t n_blocks;
  uint32_t max_tf;    // over the whole list: for the term's score upper bound
  uint32_t min_len;
};

// Per-block skip entry. The (max_tf, min_len) pair bounds every doc's BM25
// term score in the block, since the score grows with tf and falls with dl.
struct BlockMeta {
  uint32_t last_doc;
  uint32_t data;      // offset of the block bytes from the term's BlockMeta array
  uint32_t max_tf;
  uint32_t min_len;
};

}  // namespace savoir::segfmt
