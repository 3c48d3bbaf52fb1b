// Small file helpers with errors as values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace savoir {

Result<std::string> ReadFile(const std::string& path);
// Writes via a temporary file in the same folder, fsync, then rename: readers
// see the old or the new content, never a torn one.
Status WriteFileAtomic(const std::string& path, std::string_view data);
// The same, for a file written as consecutive pieces.
Status WriteFileAtomic(const std::string& path, const std::vector<std::string_view>& pieces);
Status MakeDirs(const std::string& path);

}  // namespace savoir
