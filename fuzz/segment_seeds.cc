// Writes a few valid segments (the seeds of the segment fuzzer) into the
// folder given as argv[1]: empty, one doc, and multi-block postings with
// facets. Built only with SAVOIR_FUZZ=ON; run by fuzz/make-seeds.sh.
#include <cstdio>
#include <string>

#include "index/segment.h"

using namespace savoir;

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  int failures = 0;
  auto write = [&](const SegmentWriter& w, const char* name) {
    Status s = w.Write(dir + "/" + name);
    if (!s.ok()) {
      std::fprintf(stderr, "%s: %s\n", name, s.message().c_str());
      ++failures;
    }
  };
  {
    SegmentWriter w;
    write(w, "empty.seg");
  }
  {
    SegmentWriter w;
    w.Add(IndexedChunk{1, 1, 1700000000, {"vacat", "day", "vacat day"}, 2, {"acl:public", "lang:en"}});
    write(w, "one.seg");
  }
  {
    SegmentWriter w;
    for (int i = 0; i < 300; ++i) {
      IndexedChunk c{i + 1, i / 3 + 1, 1700000000 + i, {}, 0, {}};
      c.terms = {"common", "t" + std::to_string(i % 7), "t" + std::to_string(i % 7)};
      if (i % 50 == 0) c.terms.push_back("rare");
      c.facets = {i % 2 ? "acl:public" : "acl:group:hr", "src:" + std::to_string(i % 3),
                  i % 5 ? "lang:en" : "lang:fr"};
      w.Add(c);
    }
    write(w, "blocks.seg");
  }
  return failures ? 1 : 0;
}
