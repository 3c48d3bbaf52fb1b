#include "connectors/files/access_file.h"

#include <algorithm>
#include <filesystem>

#include "common/file.h"

namespace savoir {
namespace fs = std::filesystem;

Result<AccessList> ParseAccessFile(const std::string& text, const std::string& path) {
  AccessList acl;
  size_t line_no = 0, pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line_no;
    if (auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    line.erase(0, line.find_first_not_of(" \t\r"));
    line.erase(line.find_last_not_of(" \t\r") + 1);
    if (line.empty()) continue;
    bool ok = line == "public";
    for (const char* prefix : {"user:", "group:"}) {
      size_t n = std::char_traits<char>::length(prefix);
      if (line.compare(0, n, prefix) == 0 && line.size() > n &&
          line.find_first_of(" \t,;") == std::string::npos &&
          std::none_of(line.begin(), line.end(), [](unsigned char c) { return c < 0x20 || c == 0x7F; }))
        ok = true;
    }
    if (!ok)
      return Status(ErrorKind::kInvalidArgument,
                    path + ":" + std::to_string(line_no) + ": unknown entry '" + line +
                        "' (expected public, user:NAME or group:NAME)");
    if (std::find(acl.begin(), acl.end(), line) == acl.end()) acl.push_back(line);
  }
  if (acl.empty())
    return Status(ErrorKind::kInvalidArgument, path + ": no entries (nobody could read these documents)");
  return acl;
}

Result<AccessList> AccessResolver::ForFolder(const std::string& folder) {
  auto it = cache_.find(folder);
  if (it != cache_.end()) return it->second;
  Result<AccessList> result = AccessList{"public"};
  std::string file = folder + "/.savoir-acl";
  std::error_code ec;
  if (fs::exists(file, ec)) {
    auto text = ReadFile(file);
    result = text.ok() ? ParseAccessFile(*text, file) : Result<AccessList>(text.status());
  } else if (folder != root_ && folder.size() > root_.size()) {
    result = ForFolder(fs::path(folder).parent_path().string());
  }
  cache_.emplace(folder, result);
  return result;
}

}  // namespace savoir
