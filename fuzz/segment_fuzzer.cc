// Segment::Open on arbitrary file bytes must fail cleanly or give a segment
// whose every accessor stays inside the file: the bytes are written to a
// temporary file and opened, then a few term lookups, posting traversals
// (Next, Advance, BlockFor), per-doc reads, facet reads and a BM25 search
// over a one-segment snapshot run as the index would run them.
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "fuzz_target.h"
#include "index/bm25.h"
#include "index/keyword_index.h"
#include "index/segment.h"

using namespace savoir;

namespace {

const std::string& TempPath() {
  static const std::string path = [] {
    std::string p = std::string(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") +
                    "/savoir-fuzz-seg-" + std::to_string(getpid());
    std::atexit([] { unlink(TempPath().c_str()); });
    return p;
  }();
  return path;
}

bool WriteAll(const std::string& path, const uint8_t* data, size_t size) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < size) {
    ssize_t n = ::write(fd, data + done, size - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return done == size;
}

void Lookups(const std::shared_ptr<Segment>& seg) {
  const uint32_t n_docs = seg->n_docs();
  const uint64_t n_terms = seg->n_terms();
  std::vector<QueryTerm> query;
  uint64_t i = 0;
  for (auto it = seg->Terms(); it.Valid(); it.Next(), ++i) {
    if (i != 0 && i != 1 && i != n_terms / 2 && i + 1 != n_terms) continue;
    std::string t(it.term());
    auto info = seg->Find(t);
    SAVOIR_FUZZ_CHECK(info.has_value() && info->df == it.info().df && info->postings == it.info().postings);
    if (query.size() < 3) query.push_back(QueryTerm{t, 1.0f});
    for (const TermInfo& ti : {*info, it.info()}) {
      PostingCursor c = seg->Postings(ti);
      uint32_t prev = 0, seen = 0;
      bool first = true;
      while (c.doc() != PostingCursor::kEnd && seen < 1000) {
        uint32_t d = c.doc();
        SAVOIR_FUZZ_CHECK(d < n_docs);
        SAVOIR_FUZZ_CHECK(first || d > prev);
        (void)c.freq();
        (void)c.block();
        (void)c.BlockFor(d + 1);
        (void)seg->doc_len(d);
        (void)seg->chunk_id(d);
        (void)seg->updated_at(d);
        if (seen < 4) (void)seg->LocalsOfDocument(seg->doc_id(d));
        prev = d;
        first = false;
        ++seen;
        if (seen % 3 == 0) c.Advance(d + 5); else c.Next();
      }
    }
  }
  (void)seg->Find("zzzz");
  (void)seg->Find("");
  (void)seg->LocalsOfDocument(1);
  for (const auto& [name, bm] : seg->facets()) (void)bm.cardinality();
  (void)seg->Facet("acl:public").cardinality();

  // BM25 over a snapshot holding just this segment (as KeywordIndex builds it).
  Snapshot snap;
  SegmentView v;
  v.segment = seg;
  v.deleted = std::make_shared<Roaring>();
  v.live_docs = n_docs;
  v.live_len = seg->total_len();
  snap.segments.push_back(v);
  snap.live_docs = v.live_docs;
  snap.live_len = v.live_len;
  if (!query.empty()) {
    auto hits = SearchBm25(snap, query, nullptr, Bm25Params{}, 5);
    SAVOIR_FUZZ_CHECK(hits.size() <= 5);
  }
}

}  // namespace

SAVOIR_FUZZ_TARGET(segment) {
  const std::string& path = TempPath();
  if (!WriteAll(path, data, size)) return 0;
  auto seg = Segment::Open(path);
  if (seg.ok()) Lookups(*seg);
  return 0;
}
