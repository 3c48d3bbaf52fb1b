// The savoir executable: a thin shell over the library (see src/cli).
#include <malloc.h>

#include "cli/cli.h"

int main(int argc, char** argv) {
  // glibc gives memory back to the system as soon as 128 KB are free at the
  // top of the heap, and takes it again on the next large allocation: while
  // indexing that was four brk calls per document (40,000 for 10,000
  // documents), each regrowth page-faulted in again, a third of `savoir
  // index`'s time in the kernel. Free memory is now returned past 8 MB, and
  // allocations of 8 MB or more (segment buffers) are their own mappings,
  // unmapped when freed. Set before any allocation of ours.
  mallopt(M_TRIM_THRESHOLD, 8 << 20);
  mallopt(M_TOP_PAD, 1 << 20);
  mallopt(M_MMAP_THRESHOLD, 8 << 20);
  return savoir::RunCli(argc, argv);
}
