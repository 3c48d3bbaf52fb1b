// The embedder an administrator configured (--embedder and friends), or
// none: BM25 alone needs no model.
#pragma once

#include <memory>

#include "common/config.h"
#include "common/status.h"
#include "embed/embedder.h"

namespace savoir {

// nullptr when config.embedder is empty. Errors say which option is wrong
// (a missing model file, an unreachable endpoint...).
Result<std::unique_ptr<Embedder>> MakeEmbedder(const Config& config);

}  // namespace savoir
