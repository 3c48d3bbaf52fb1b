// Process-wide allocator settings, applied first thing by the savoir binary
// and by the benchmarks (which time the library as the binary runs it).
#pragma once

namespace savoir {

// glibc gives memory back to the system as soon as 128 KB are free at the
// top of the heap, and takes it again on the next large allocation: while
// indexing that was four brk calls per document (40,000 for 10,000
// documents), each regrowth page-faulted in again, a third of `savoir
// index`'s time in the kernel. Free memory is returned past 8 MB (1 MB top
// pad), and allocations of 8 MB or more (segment buffers) are their own
// mappings, unmapped when freed. Call before any large allocation.
void ConfigureAllocator();

}  // namespace savoir
