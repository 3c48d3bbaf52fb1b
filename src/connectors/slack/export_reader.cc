#include "connectors/slack/export_reader.h"

#include <zip.h>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "common/file.h"

namespace savoir {
namespace fs = std::filesystem;
namespace {

// Exports are a few MB; a larger entry is not a day of messages.
constexpr uint64_t kMaxEntryBytes = 256ull << 20;

class FolderReader final : public ExportReader {
 public:
  explicit FolderReader(fs::path root) : root_(std::move(root)) {
    std::error_code ec;
    for (fs::recursive_directory_iterator it(root_, ec), end; !ec && it != end; it.increment(ec))
      if (it->is_regular_file(ec)) files_.push_back(fs::relative(it->path(), root_, ec).string());
    std::sort(files_.begin(), files_.end());
  }
  std::vector<std::string> Files() const override { return files_; }
  Result<std::string> Read(const std::string& rel) const override { return ReadFile((root_ / rel).string()); }

 private:
  fs::path root_;
  std::vector<std::string> files_;
};

class ZipReader final : public ExportReader {
 public:
  ZipReader(zip_t* zip, std::string path) : zip_(zip), path_(std::move(path)) {
    zip_int64_t n = zip_get_num_entries(zip_, 0);
    std::vector<std::string> names;
    for (zip_int64_t i = 0; i < n; ++i)
      if (const char* name = zip_get_name(zip_, i, 0); name && name[0] && name[strlen(name) - 1] != '/')
        names.push_back(name);
    // Some zips wrap everything in one top folder: paths are relative to
    // the folder holding channels.json.
    for (const auto& name : names)
      if (name == "channels.json" || name.ends_with("/channels.json")) {
        prefix_ = name.substr(0, name.size() - strlen("channels.json"));
        break;
      }
    for (auto& name : names)
      if (name.starts_with(prefix_)) files_.push_back(name.substr(prefix_.size()));
    std::sort(files_.begin(), files_.end());
  }
  ~ZipReader() override { zip_discard(zip_); }

  std::vector<std::string> Files() const override { return files_; }
  Result<std::string> Read(const std::string& rel) const override {
    std::string name = prefix_ + rel;
    zip_stat_t st;
    if (zip_stat(zip_, name.c_str(), 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
      return Status(ErrorKind::kNotFound, path_ + ": no entry " + name);
    if (st.size > kMaxEntryBytes) return Status(ErrorKind::kTooLarge, path_ + ": entry " + name + " is too large");
    zip_file_t* f = zip_fopen(zip_, name.c_str(), 0);
    if (!f) return Status(ErrorKind::kCorrupt, path_ + ": cannot open entry " + name);
    std::string out(st.size, '\0');
    zip_int64_t got = zip_fread(f, out.data(), out.size());
    zip_fclose(f);
    if (got < 0 || static_cast<uint64_t>(got) != st.size)
      return Status(ErrorKind::kCorrupt, path_ + ": cannot read entry " + name);
    return out;
  }

 private:
  zip_t* zip_;
  std::string path_, prefix_;
  std::vector<std::string> files_;
};

}  // namespace

Result<std::unique_ptr<ExportReader>> OpenExport(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return std::unique_ptr<ExportReader>(new FolderReader(path));
  if (!fs::is_regular_file(path, ec))
    return Status(ErrorKind::kNotFound, "cannot read Slack export " + path + ": no such file or folder");
  int err = 0;
  zip_t* zip = zip_open(path.c_str(), ZIP_RDONLY, &err);
  if (!zip) return Status(ErrorKind::kCorrupt, "Slack export " + path + " is neither a folder nor a readable zip");
  return std::unique_ptr<ExportReader>(new ZipReader(zip, path));
}

}  // namespace savoir
