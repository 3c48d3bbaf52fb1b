// On-disk layout of an immutable keyword-index segment (little-endian, all
// sections 8-byte aligned, the whole file memory-mapped by Segment).
//
//   Header
//   doc_lens      u32[n_docs]        analyzed length of each chunk (BM25 dl)
//   chunk_ids     i64[n_docs]        store chunk id of each local doc
//   doc_ids       i64[n_docs]        store document id of each local doc
//   updated_at    i64[n_docs]        document update time (unix seconds)
//   doc_lookup    DocLookup[n_docs]  (doc_id, local) sorted by doc_id: deletes
//   dict_index    DictBlock[n_dict_blocks + 1]  where each dictionary block
//                 starts; the last entry marks the end of the dictionary
//   dict          dictionary blocks of 1 to kDictBlock terms (terms sorted
//                 bytewise; the writer, which encodes ranges of terms on
//                 several threads, closes a block at each range's end),
//                 one entry per term, all LEB128:
//                   shared prefix length with the previous term (0 for the
//                   first of a block), suffix length, suffix bytes, df; then
//                   df == 1:  doc, tf                 (the posting, inline)
//                   df >= 2:  max_tf, min_len, gap    (list offset = the
//                             previous list's offset in this block, or the
//                             block's post_base, + gap)
//   postings      per list: df <= kBlockSize: doc-id deltas then tfs (one
//                 block, no skip data); df > kBlockSize (4-byte aligned):
//                 BlockMeta[n_blocks], then each block's doc-id deltas and
//                 tfs. Block sizes are kBlockSize except the last.
//   facets        u32 count, then per facet: u32 name_len, name, u32 size,
//                 portable Roaring bitmap of local docs (acl, source, language)
//
// Version 1 (a fixed 24-byte TermInfo, a u32 offset and a BlockMeta per term,
// terms stored whole) took 4-6x the raw text on SciFact/PIAF, three quarters
// of it for terms seen once; version 2 front-codes the terms and keeps short
// lists in the dictionary. A version-1 index is rebuilt from the store.
#pragma once

#include <cstdint>

namespace savoir::segfmt {

constexpr char kMagic[8] = {'S', 'V', 'S', 'E', 'G', '0', '0', '2'};
constexpr uint32_t kVersion = 2;
constexpr uint32_t kBlockSize = 128;
constexpr uint32_t kDictBlock = 32;
// Longest term the writer accepts (analyzer terms are far shorter; a pair
// term is two of them and a space).
constexpr uint32_t kMaxTermLen = 1024;

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t n_docs;
  uint64_t n_terms;
  uint64_t total_len;  // sum of doc_lens
  uint64_t off_doc_lens, off_chunk_ids, off_doc_ids, off_updated_at, off_doc_lookup;
  uint64_t off_dict_index, off_dict, off_postings, off_facets;
  uint64_t n_dict_blocks;  // not counting the end marker
  uint64_t file_size;
};

struct DocLookup {
  int64_t doc_id;
  uint32_t local;
  uint32_t pad;
};

struct DictBlock {
  uint64_t dict;       // offset of the block's first entry from off_dict
  uint64_t post_base;  // posting offset the block's first gap is added to
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
