#include "retrieve/permission_filter.h"

namespace savoir {

std::optional<Roaring> PermissionFilter::Allowed(const Segment& seg) const {
  std::optional<Roaring> allowed;
  auto intersect = [&](Roaring bm) {
    if (allowed) *allowed &= bm;
    else allowed = std::move(bm);
  };
  if (!principal_.all_access) {
    Roaring acl;
    for (const auto& e : principal_.AccessEntries()) acl |= seg.Facet("acl:" + e);
    intersect(std::move(acl));
  }
  if (!filters_.sources.empty()) {
    Roaring bm;
    for (int64_t s : filters_.sources) bm |= seg.Facet("src:" + std::to_string(s));
    intersect(std::move(bm));
  }
  if (!filters_.languages.empty()) {
    Roaring bm;
    for (const auto& l : filters_.languages) bm |= seg.Facet("lang:" + l);
    intersect(std::move(bm));
  }
  if (filters_.updated_after > 0) {
    Roaring bm;
    for (uint32_t i = 0; i < seg.n_docs(); ++i)
      if (seg.updated_at(i) >= filters_.updated_after) bm.add(i);
    intersect(std::move(bm));
  }
  return allowed;
}

}  // namespace savoir
