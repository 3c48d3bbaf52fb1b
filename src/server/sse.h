// Server-Sent Events over httplib's chunked responses. Each event is written
// to the socket as soon as it is produced (no buffering, no compression), and
// a failed write means the client went away: the producer must stop.
#pragma once

#include <httplib.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace savoir {

// "event: NAME\ndata: JSON\n\n" (JSON is one line: newlines are escaped).
std::string SseEvent(std::string_view event, const nlohmann::json& data);
// "data: PAYLOAD\n\n", the unnamed events of the OpenAI protocol.
std::string SseData(std::string_view payload);

class SseStream {
 public:
  explicit SseStream(httplib::DataSink& sink) : sink_(sink) {}
  // Each returns false once the client is gone (and keeps returning false).
  bool Event(std::string_view event, const nlohmann::json& data) { return Write(SseEvent(event, data)); }
  bool Data(std::string_view payload) { return Write(SseData(payload)); }
  bool Write(const std::string& bytes);
  bool open() const { return open_; }

 private:
  httplib::DataSink& sink_;
  bool open_ = true;
};

// Makes `res` a text/event-stream whose body is produced by `body`, run on
// the connection's thread after the headers are sent. An exception in `body`
// is logged and ends the stream (the status line is already out by then).
void StreamEvents(httplib::Response& res, std::function<void(SseStream&)> body);

}  // namespace savoir
