#include "common/allocator.h"

#include <malloc.h>

namespace savoir {

void ConfigureAllocator() {
  mallopt(M_TRIM_THRESHOLD, 8 << 20);
  mallopt(M_TOP_PAD, 1 << 20);
  mallopt(M_MMAP_THRESHOLD, 8 << 20);
}

}  // namespace savoir
