// Small file helpers with errors as values.
#pragma once

#include <cstdint>
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
// A piece of a file being written: `bytes` in memory, or, when fd >= 0, the
// first `len` bytes of the open file `fd` (copied in the kernel).
struct FilePiece {
  std::string_view bytes;
  int fd = -1;
  uint64_t len = 0;
};
Status WriteFileAtomic(const std::string& path, const std::vector<FilePiece>& pieces);
// An unnamed temporary file in folder `dir` (O_TMPFILE, or a name unlinked
// at once): it holds scratch data on the same disk and leaves nothing behind,
// even after a crash. The caller closes the descriptor.
Result<int> OpenScratchFile(const std::string& dir);
// Writes all of `data` at fd's position (retrying short writes and EINTR);
// errors name `name`.
Status WriteAll(int fd, std::string_view data, const std::string& name);
Status MakeDirs(const std::string& path);

}  // namespace savoir
