// `.savoir-acl`: who may read the documents of a folder and its subfolders.
//
//   # comments and blank lines are ignored
//   public              everyone
//   user:<login>        one user
//   group:<name>        members of a group
//
// The nearest file up the tree wins (it replaces, not extends, the parent's
// list); without any, documents are public. A malformed file is an error for
// the files below it: they are reported and not indexed, never exposed.
#pragma once

#include <map>
#include <string>

#include "common/status.h"
#include "store/store.h"

namespace savoir {

Result<AccessList> ParseAccessFile(const std::string& text, const std::string& path);

// Resolves (and caches) the access list of files in a folder under `root`.
class AccessResolver {
 public:
  explicit AccessResolver(std::string root) : root_(std::move(root)) {}
  Result<AccessList> ForFolder(const std::string& folder);

 private:
  std::string root_;
  std::map<std::string, Result<AccessList>> cache_;
};

}  // namespace savoir
