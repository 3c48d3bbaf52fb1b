// The browser UI: files from the web folder, nothing outside it. Paths are
// checked segment by segment (httplib has already decoded %2e%2e into ..)
// and the resolved file must still lie inside the canonical web folder, so
// neither "..", nor an absolute path, nor a symbolic link leads out.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "server/http_errors.h"
#include "server/server.h"

namespace savoir {
namespace {
namespace fs = std::filesystem;

const char* ContentType(const std::string& ext) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"},  {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml; charset=utf-8"}, {".json", "application/json; charset=utf-8"},
      {".txt", "text/plain; charset=utf-8"},  {".png", "image/png"},
      {".ico", "image/x-icon"},               {".woff2", "font/woff2"},
  };
  for (const auto& [e, type] : kTypes)
    if (ext == e) return type;
  return "application/octet-stream";
}

// The file under `root` that `url_path` names, or empty when there is none.
fs::path Resolve(const fs::path& root, std::string url_path) {
  if (url_path.empty() || url_path[0] != '/') return {};
  if (url_path.back() == '/') url_path += "index.html";
  fs::path rel;
  std::stringstream parts(url_path.substr(1));
  for (std::string seg; std::getline(parts, seg, '/');) {
    if (seg.empty()) continue;
    if (seg == "." || seg == ".." || seg.find('\\') != std::string::npos || seg.find('\0') != std::string::npos)
      return {};
    rel /= seg;
  }
  std::error_code ec;
  fs::path file = fs::canonical(root / rel, ec);
  if (ec || !fs::is_regular_file(file, ec)) return {};
  const std::string prefix = root.string() + "/";
  if (file.string().compare(0, prefix.size(), prefix) != 0) return {};
  return file;
}

}  // namespace

void AddStaticRoutes(httplib::Server& server, ServerContext& ctx) {
  std::error_code ec;
  fs::path root = fs::canonical(ctx.options.web_dir, ec);
  if (ec) std::fprintf(stderr, "savoir: web folder %s not found; the browser UI is off\n", ctx.options.web_dir.c_str());
  server.Get(R"(/.*)", Guarded(ErrorStyle::kSavoir, [root](const httplib::Request& req, httplib::Response& res) {
               if (req.path.rfind("/v1/", 0) == 0) {
                 WriteError(res, Status(ErrorKind::kNotFound, "no such endpoint"), ErrorStyle::kOpenAi);
                 return Status::Ok();
               }
               if (req.path.rfind("/api/", 0) == 0) return Status(ErrorKind::kNotFound, "no such endpoint");
               fs::path file = root.empty() ? fs::path() : Resolve(root, req.path);
               if (file.empty()) return Status(ErrorKind::kNotFound, "no such file");
               std::ifstream in(file, std::ios::binary);
               std::ostringstream body;
               body << in.rdbuf();
               if (!in) return Status(ErrorKind::kIo, "cannot read a web file");
               res.set_header("Cache-Control", "no-cache");
               res.set_header("Content-Security-Policy",
                              "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:");
               res.set_header("Referrer-Policy", "no-referrer");
               res.set_content(body.str(), ContentType(file.extension().string()));
               return Status::Ok();
             }));
}

}  // namespace savoir
