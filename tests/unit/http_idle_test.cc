// The HTTP client's idle-read timeout (HttpOptions::idle_timeout_ms, set
// from --model-idle-timeout-s for model endpoints): a server that accepts a
// request and never answers, or stalls in the middle of a stream, is cut
// after that much silence, with an error naming the endpoint and the wait;
// a slow but steady stream is not. Against a local cpp-httplib server.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "answer/chat_factory.h"
#include "common/config.h"
#include "net/aws_bedrock_runtime.h"
#include "net/http_client.h"

namespace savoir {
namespace {

// Handlers that stall wait on `release` (set when the test ends), so the
// server stops at once.
class StallingServer {
 public:
  httplib::Server server;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  int port = 0;

  StallingServer() {
    server.Get("/silent", [this](const httplib::Request&, httplib::Response& res) {
      released.wait_for(std::chrono::seconds(20));
      res.set_content("late", "text/plain");
    });
    server.Get("/stall", [this](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("application/octet-stream", [this](size_t, httplib::DataSink& sink) {
        sink.write("first part;", 11);
        released.wait_for(std::chrono::seconds(20));
        sink.write("second part", 11);
        sink.done();
        return true;
      });
    });
    server.Get("/steady", [](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("application/octet-stream", [](size_t, httplib::DataSink& sink) {
        for (int i = 0; i < 8; ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(300));
          std::string part = "chunk" + std::to_string(i) + ";";
          sink.write(part.data(), part.size());
        }
        sink.done();
        return true;
      });
    });
    // An OpenAI-compatible chat endpoint that streams one delta, then stalls.
    server.Post("/v1/chat/completions", [this](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("text/event-stream", [this](size_t, httplib::DataSink& sink) {
        std::string first = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Bonjour\"}}]}\n\n";
        sink.write(first.data(), first.size());
        released.wait_for(std::chrono::seconds(20));
        sink.done();
        return true;
      });
    });
    // A Bedrock ConverseStream that sends a frame's worth of bytes, then stalls.
    server.Post("/model/m/converse-stream", [this](const httplib::Request&, httplib::Response& res) {
      res.set_chunked_content_provider("application/vnd.amazon.eventstream", [this](size_t, httplib::DataSink& sink) {
        sink.write("\0\0\0\x10", 4);
        released.wait_for(std::chrono::seconds(20));
        sink.done();
        return true;
      });
    });
    port = server.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~StallingServer() {
    release.set_value();
    server.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }

 private:
  std::thread thread_;
};

HttpOptions IdleOptions(int idle_ms) {
  HttpOptions o;
  o.idle_timeout_ms = idle_ms;
  o.timeout_ms = 60000;
  o.max_attempts = 1;
  o.requests_per_minute = 0;
  return o;
}

TEST(HttpIdleTimeout, SilentEndpointIsCutAndNamed) {
  StallingServer s;
  HttpClient http(IdleOptions(1000));
  auto r = http.Get(s.url() + "/silent?key=secret", {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kTimeout);
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("GET " + s.url() + "/silent stalled: no data for 1 s before any answer"), std::string::npos) << m;
  EXPECT_EQ(m.find("secret"), std::string::npos) << m;
}

TEST(HttpIdleTimeout, StreamThatStallsMidwayIsCut) {
  StallingServer s;
  HttpClient http(IdleOptions(1000));
  HttpRequest req;
  req.url = s.url() + "/stall";
  std::string got;
  auto r = http.Send(req, [&](std::string_view chunk) {
    got.append(chunk);
    return true;
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().kind(), ErrorKind::kTimeout);
  EXPECT_EQ(got, "first part;");
  EXPECT_NE(r.status().message().find("/stall stalled: no data for 1 s in the middle of the response"), std::string::npos)
      << r.status().message();
  // Without the idle timeout only the whole-request timeout would cut it.
  HttpOptions whole = IdleOptions(0);
  whole.timeout_ms = 1500;
  auto w = HttpClient(whole).Send(req, [](std::string_view) { return true; });
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().message().find("stalled"), std::string::npos) << w.status().message();
}

TEST(HttpIdleTimeout, SlowSteadyStreamIsNotCut) {
  StallingServer s;
  // 8 chunks 300 ms apart: 2.4 s in all, never 1 s of silence.
  HttpClient http(IdleOptions(1000));
  HttpRequest req;
  req.url = s.url() + "/steady";
  std::string got;
  auto r = http.Send(req, [&](std::string_view chunk) {
    got.append(chunk);
    return true;
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(got, "chunk0;chunk1;chunk2;chunk3;chunk4;chunk5;chunk6;chunk7;");
}

TEST(HttpIdleTimeout, ModelIdleTimeoutOptionReachesTheChatModel) {
  StallingServer s;
  Config config;
  ASSERT_TRUE(ApplyDefaultsAndEnvironment(config).ok());
  EXPECT_EQ(config.model_idle_timeout_s, 120);
  config.chat = "openai";
  config.chat_url = s.url() + "/v1";
  config.chat_model = "m";
  config.model_idle_timeout_s = 1;
  auto model = MakeChatModel(config);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  std::string text;
  auto r = (*model)->Chat({{"user", "hi"}}, ChatOptions{}, [&](std::string_view d) {
    text.append(d);
    return true;
  });
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(text, "Bonjour");
  EXPECT_NE(r.status().message().find("POST " + s.url() + "/v1/chat/completions stalled: no data for 1 s"),
            std::string::npos)
      << r.status().message();
}

TEST(HttpIdleTimeout, BedrockRuntimeStreamsAreCutToo) {
  StallingServer s;
  setenv("AWS_ACCESS_KEY_ID", "AKIDIDLE", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "idle/secret", 1);
  auto runtime = MakeBedrockRuntime("eu-west-3", s.url(), 1000);
  ASSERT_TRUE(runtime.ok()) << runtime.status().ToString();
  size_t bytes = 0;
  auto r = (*runtime)->Post("m", "converse-stream", "{}", "", [&](std::string_view chunk) {
    bytes += chunk.size();
    return true;
  });
  unsetenv("AWS_ACCESS_KEY_ID");  // read when signing
  unsetenv("AWS_SECRET_ACCESS_KEY");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(bytes, 4u);
  EXPECT_EQ(r.status().kind(), ErrorKind::kTimeout);
  EXPECT_NE(r.status().message().find("POST " + s.url() + "/model/m/converse-stream stalled: no data for 1 s in the middle"),
            std::string::npos)
      << r.status().message();
}

}  // namespace
}  // namespace savoir
