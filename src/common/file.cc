#include "common/file.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace savoir {

Result<std::string> ReadFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status(ErrorKind::kIo, "cannot open " + path + ": " + std::strerror(errno));
  std::string out;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      return Status(ErrorKind::kIo, "cannot read " + path + ": " + std::strerror(e));
    }
    if (n == 0) break;
    out.append(buf, n);
  }
  ::close(fd);
  return out;
}

Status WriteFileAtomic(const std::string& path, std::string_view data) {
  return WriteFileAtomic(path, std::vector<std::string_view>{data});
}

Status WriteFileAtomic(const std::string& path, const std::vector<std::string_view>& pieces) {
  std::vector<FilePiece> all;
  all.reserve(pieces.size());
  for (std::string_view p : pieces) all.push_back(FilePiece{p});
  return WriteFileAtomic(path, all);
}

Status WriteAll(int fd, std::string_view data, const std::string& name) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status(ErrorKind::kIo, "cannot write " + name + ": " + std::strerror(errno));
    }
    done += n;
  }
  return Status::Ok();
}

namespace {

// Copies the first `len` bytes of `from` to the end of `to`: in the kernel
// (copy_file_range), or through a buffer where the file systems refuse.
Status CopyRange(int from, uint64_t len, int to, const std::string& name) {
  loff_t in = 0;
  while (static_cast<uint64_t>(in) < len) {
    ssize_t n = ::copy_file_range(from, &in, to, nullptr, len - in, 0);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return Status(ErrorKind::kIo, "cannot copy into " + name + ": the scratch file is short");
    if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
      return Status(ErrorKind::kIo, "cannot copy into " + name + ": " + std::strerror(errno));
    std::string buf(1 << 20, '\0');
    while (static_cast<uint64_t>(in) < len) {
      ssize_t r = ::pread(from, buf.data(), std::min<uint64_t>(buf.size(), len - in), in);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return Status(ErrorKind::kIo, "cannot read the scratch file for " + name);
      SAVOIR_RETURN_IF_ERROR(WriteAll(to, std::string_view(buf.data(), r), name));
      in += r;
    }
  }
  return Status::Ok();
}

}  // namespace

Status WriteFileAtomic(const std::string& path, const std::vector<FilePiece>& pieces) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status(ErrorKind::kIo, "cannot create " + tmp + ": " + std::strerror(errno));
  for (const FilePiece& piece : pieces) {
    Status s = piece.fd >= 0 ? CopyRange(piece.fd, piece.len, fd, tmp) : WriteAll(fd, piece.bytes, tmp);
    if (!s.ok()) {
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) return Status(ErrorKind::kIo, "cannot sync " + tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return Status(ErrorKind::kIo, "cannot rename " + tmp + ": " + std::strerror(errno));
  std::string dir = std::filesystem::path(path).parent_path().string();
  int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Status::Ok();
}

Result<int> OpenScratchFile(const std::string& dir) {
  const std::string at = dir.empty() ? "." : dir;
  int fd = ::open(at.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  std::string name = at + "/scratch.XXXXXX";
  fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) return Status(ErrorKind::kIo, "cannot create a scratch file in " + at + ": " + std::strerror(errno));
  ::unlink(name.c_str());
  return fd;
}

Status MakeDirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Status(ErrorKind::kIo, "cannot create folder " + path + ": " + ec.message());
  return Status::Ok();
}

}  // namespace savoir
