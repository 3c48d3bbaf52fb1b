// The permission filter and the search filters as one DocSelector: for each
// segment, the local docs the principal may see (union of the facet bitmaps
// of its access entries) intersected with the requested sources, languages
// and dates. The index applies it inside posting traversal, before ranking.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "index/bm25.h"
#include "retrieve/principal.h"

namespace savoir {

struct SearchFilters {
  std::vector<int64_t> sources;        // empty: all
  std::vector<std::string> languages;  // empty: all
  int64_t updated_after = 0;           // unix seconds; 0: no limit
  bool empty() const { return sources.empty() && languages.empty() && updated_after == 0; }
};

class PermissionFilter final : public DocSelector {
 public:
  PermissionFilter(Principal principal, SearchFilters filters)
      : principal_(std::move(principal)), filters_(std::move(filters)) {}
  std::optional<Roaring> Allowed(const Segment& segment) const override;

 private:
  Principal principal_;
  SearchFilters filters_;
};

}  // namespace savoir
