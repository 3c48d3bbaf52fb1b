// SigV4 signing and event-stream decoding rates, with the reference npm
// implementations measured in the same run (tests/js/aws-tools.mjs bench):
// aws4 signing the same Bedrock requests, @smithy/eventstream-codec decoding
// the same contentBlockDelta stream. Prints each rate and ours / reference.
//   usage: build/aws_bench [N]   (from the source tree: needs tests/js/node_modules)
#include <chrono>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "net/aws_eventstream.h"
#include "net/aws_sigv4.h"

using namespace savoir;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 20000;
  std::string body = nlohmann::json{{"messages", {{{"role", "user"}, {"content", {{{"text", std::string(2000, 'x')}}}}}}}}.dump();
  AwsCredentials creds{"AKIDBENCH", "bench/secret", "token", 0, "bench"};
  auto t = Clock::now();
  size_t sink = 0;
  for (int i = 0; i < n; ++i) {
    HttpRequest req;
    req.method = "POST";
    req.url = "https://bedrock-runtime.eu-west-3.amazonaws.com/model/anthropic.claude-3-haiku-20240307-v1%3A" +
              std::to_string(i % 10) + "/converse-stream";
    req.headers = {"Content-Type: application/json", "X-Amz-Date: 20261126T120000Z"};
    req.body = body;
    if (!SigV4SignHttpRequest(&req, creds, "eu-west-3", "bedrock", 0).ok()) return 1;
    sink += req.headers.back().size();
  }
  double sign_s = std::chrono::duration<double>(Clock::now() - t).count();

  std::string stream;
  for (int i = 0; i < n; ++i) {
    EventStreamMessage m;
    m.headers = {{":message-type", {EventHeaderType::kString, 0, "event"}},
                 {":event-type", {EventHeaderType::kString, 0, "contentBlockDelta"}},
                 {":content-type", {EventHeaderType::kString, 0, "application/json"}}};
    m.payload = nlohmann::json{{"contentBlockIndex", 0}, {"delta", {{"text", "token " + std::to_string(i) + " "}}},
                               {"p", "abcdefghij"}}.dump();
    stream += *EncodeEventStreamMessage(m);
  }
  t = Clock::now();
  EventStreamDecoder d;
  std::vector<EventStreamMessage> out;
  size_t decoded = 0;
  for (size_t pos = 0; pos < stream.size(); pos += 4096) {  // network-sized reads, frames straddling them
    out.clear();
    if (!d.Feed(std::string_view(stream).substr(pos, 4096), &out).ok()) return 1;
    decoded += out.size();
  }
  double decode_s = std::chrono::duration<double>(Clock::now() - t).count();
  if (decoded != static_cast<size_t>(n)) return 1;

  std::string cmd = std::string("cd '") + SAVOIR_SOURCE_DIR + "/tests/js' && node aws-tools.mjs bench " + std::to_string(n);
  FILE* p = popen(cmd.c_str(), "r");
  std::string ref;
  char buf[4096];
  size_t k;
  while (p && (k = fread(buf, 1, sizeof buf, p)) > 0) ref.append(buf, k);
  if (p) pclose(p);
  auto j = nlohmann::json::parse(ref, nullptr, false);
  double sign_rate = n / sign_s, decode_rate = decoded / decode_s;
  std::printf("requests/frames: %d (stream %zu bytes, checksum %zu)\n", n, stream.size(), sink);
  std::printf("sigv4 sign:        %10.0f req/s   aws4 (node) %10.0f req/s   ratio %.2fx\n", sign_rate,
              j.value("signs_per_s", 0.0), j.is_object() ? sign_rate / j.value("signs_per_s", 1.0) : 0.0);
  std::printf("eventstream decode:%10.0f frame/s smithy (node)%10.0f frame/s ratio %.2fx\n", decode_rate,
              j.value("frames_per_s", 0.0), j.is_object() ? decode_rate / j.value("frames_per_s", 1.0) : 0.0);
  return 0;
}
