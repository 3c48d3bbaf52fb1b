#include "server/sse.h"

#include <cstdio>
#include <exception>
#include <memory>

#include "server/http_errors.h"

namespace savoir {

std::string SseEvent(std::string_view event, const nlohmann::json& data) {
  return "event: " + std::string(event) + "\ndata: " + DumpJson(data) + "\n\n";
}

std::string SseData(std::string_view payload) { return "data: " + std::string(payload) + "\n\n"; }

bool SseStream::Write(const std::string& bytes) {
  if (!open_) return false;
  // DataSink::write sends one HTTP chunk straight to the socket.
  if (!sink_.is_writable() || !sink_.write(bytes.data(), bytes.size())) open_ = false;
  return open_;
}

void StreamEvents(httplib::Response& res, std::function<void(SseStream&)> body) {
  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Accel-Buffering", "no");  // tells nginx-like proxies not to buffer
  auto fn = std::make_shared<std::function<void(SseStream&)>>(std::move(body));
  // Exactly "text/event-stream": httplib gzips every other text/* type, and a
  // compressor would hold events back until its buffer fills.
  res.set_chunked_content_provider("text/event-stream", [fn](size_t /*offset*/, httplib::DataSink& sink) {
    SseStream stream(sink);
    try {
      (*fn)(stream);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "savoir: event stream: unexpected exception: %s\n", e.what());
      stream.Event("error", {{"code", "internal"}, {"message", "internal error (logged on the server)"}});
    } catch (...) {
      std::fprintf(stderr, "savoir: event stream: unexpected non-standard exception\n");
    }
    if (!stream.open()) return false;  // client gone: httplib closes the connection
    sink.done();
    return true;
  });
}

}  // namespace savoir
