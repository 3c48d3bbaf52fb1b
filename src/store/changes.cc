#include <unordered_set>

#include "store/store.h"

namespace savoir {

Result<std::vector<int64_t>> DocumentsToRevisit(Store& store, int64_t after_seq, bool from_scratch,
                                                int64_t up_to) {
  if (from_scratch) return store.AllDocumentIds();
  std::vector<int64_t> touched;
  std::unordered_set<int64_t> seen;
  for (int64_t seq = after_seq;;) {
    SAVOIR_ASSIGN_OR_RETURN(auto changes, store.ChangesSince(seq, 100000));
    if (changes.empty()) break;
    for (const auto& c : changes)
      if (seen.insert(c.document_id).second) touched.push_back(c.document_id);
    seq = changes.back().seq;
    if (up_to > 0 && seq >= up_to) break;
  }
  return touched;
}

}  // namespace savoir
