#include "common/file.h"

#include <fcntl.h>
#include <unistd.h>

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
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status(ErrorKind::kIo, "cannot create " + tmp + ": " + std::strerror(errno));
  for (std::string_view data : pieces) {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::write(fd, data.data() + done, data.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        int e = errno;
        ::close(fd);
        return Status(ErrorKind::kIo, "cannot write " + tmp + ": " + std::strerror(e));
      }
      done += n;
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

Status MakeDirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Status(ErrorKind::kIo, "cannot create folder " + path + ": " + ec.message());
  return Status::Ok();
}

}  // namespace savoir
