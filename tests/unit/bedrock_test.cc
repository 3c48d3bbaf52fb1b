// Bedrock chat and embeddings end to end against tests/js/fake-bedrock.mjs, a
// local server that verifies every request's SigV4 signature with the npm
// `aws4` signer and answers ConverseStream in real event-stream frames made
// by @smithy/eventstream-codec.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>

#include "answer/bedrock_chat.h"
#include "answer/chat_factory.h"
#include "common/config.h"
#include "embed/bedrock_embedder.h"
#include "embed/factory.h"
#include "net/aws_bedrock_runtime.h"

extern char** environ;

namespace savoir {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const std::string kJsDir = std::string(SAVOIR_SOURCE_DIR) + "/tests/js";
const char* kRegion = "eu-west-3";

// The fake server as a child process; the port it prints is read from a pipe.
class FakeBedrock {
 public:
  explicit FakeBedrock(const std::string& session_token = "") {
    int fds[2];
    if (pipe(fds) != 0) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    std::vector<std::string> env_s = {"FAKE_AWS_ACCESS_KEY_ID=AKIDTESTBEDROCK",
                                      "FAKE_AWS_SECRET_ACCESS_KEY=test/secret/Key+1",
                                      std::string("FAKE_AWS_REGION=") + kRegion,
                                      "PATH=" + std::string(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin")};
    if (!session_token.empty()) env_s.push_back("FAKE_AWS_SESSION_TOKEN=" + session_token);
    std::vector<char*> envp;
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string script = kJsDir + "/fake-bedrock.mjs";
    char* argv[] = {const_cast<char*>("node"), script.data(), nullptr};
    if (posix_spawnp(&pid_, "node", &fa, nullptr, argv, envp.data()) != 0) pid_ = 0;
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    FILE* out = fdopen(fds[0], "r");
    char line[128] = {0};
    if (pid_ && out && fgets(line, sizeof line, out)) std::sscanf(line, "listening %d", &port_);
    if (out) fclose(out);
  }
  ~FakeBedrock() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  Json Requests() const {
    HttpOptions o;
    o.requests_per_minute = 0;
    HttpClient http(o);
    auto r = http.Get(url() + "/__requests", {});
    return r.ok() ? Json::parse(r->body, nullptr, false) : Json();
  }

 private:
  pid_t pid_ = 0;
  int port_ = 0;
};

bool NodeToolsPresent() {
  return std::system("node --version > /dev/null 2>&1") == 0 && fs::exists(kJsDir + "/node_modules/aws4") &&
         fs::exists(kJsDir + "/node_modules/@smithy/eventstream-codec");
}

#define REQUIRE_FAKE(server)                                                                     \
  if (!NodeToolsPresent()) GTEST_SKIP() << "node or tests/js/node_modules missing (scripts/install-deps)"; \
  ASSERT_GT((server).port(), 0) << "fake-bedrock.mjs did not start"

EnvLookup Env(std::map<std::string, std::string> vars) {
  vars.emplace("HOME", "/nonexistent");
  vars.emplace("AWS_EC2_METADATA_DISABLED", "true");
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::shared_ptr<BedrockRuntime> Runtime(const FakeBedrock& fake, const std::string& secret = "test/secret/Key+1",
                                        const std::string& token = "", std::time_t skew = 0) {
  AwsCredentialOptions co;
  co.env = Env({{"AWS_ACCESS_KEY_ID", "AKIDTESTBEDROCK"}, {"AWS_SECRET_ACCESS_KEY", secret}, {"AWS_SESSION_TOKEN", token}});
  BedrockRuntimeConfig rc;
  rc.region = kRegion;
  rc.endpoint = fake.url() + "/";  // a VPC endpoint URL, trailing slash and all
  rc.http.max_attempts = 1;
  rc.now = [skew] { return std::time(nullptr) + skew; };
  return std::make_shared<BedrockRuntime>(rc, std::make_shared<AwsCredentialChain>(co));
}

const std::vector<ChatMessage> kConversation = {
    {"system", "Answer from the passages. Cite as [n]."},
    {"user", "Quelle est la politique de congés ?"},
    {"assistant", "25 jours [1]."},
    {"user", "Et pour les temps partiels ?"},
    {"user", "Réponds en une phrase."},
};
const std::string kModel = "anthropic.claude-3-haiku-20240307-v1:0";
const std::string kEcho = "model=" + kModel + "|system=Answer from the passages. Cite as [n].|user=Et pour les temps partiels ?\n"
                          "Réponds en une phrase.|turns=3|maxTokens=77|temperature=0.5|stop=\n\nHuman:,END";

ChatOptions Options() {
  ChatOptions o;
  o.max_tokens = 77;
  o.temperature = 0.5;
  o.stop = {"\n\nHuman:", "END"};
  return o;
}

TEST(BedrockChat, ConverseStreamSignedAndDecoded) {
  FakeBedrock fake;
  REQUIRE_FAKE(fake);
  BedrockChat chat({kModel, true, 0}, Runtime(fake));
  std::vector<std::string> deltas;
  auto usage = chat.Chat(kConversation, Options(), [&](std::string_view d) {
    deltas.emplace_back(d);
    return true;
  });
  ASSERT_TRUE(usage.ok()) << usage.status().ToString();
  std::string text;
  for (const auto& d : deltas) text += d;
  EXPECT_EQ(text, kEcho);
  EXPECT_EQ(deltas.size(), 7u);  // one delta per '|'-ended piece
  EXPECT_EQ(usage->finish_reason, "stop");
  EXPECT_EQ(usage->completion_tokens, 7);
  EXPECT_GT(usage->prompt_tokens, 100);
  EXPECT_EQ(usage->model, "bedrock:" + kModel);
  EXPECT_LE(usage->first_token_ms, usage->latency_ms);
  Json reqs = fake.Requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0]["model"], kModel);
  EXPECT_EQ(reqs[0]["action"], "converse-stream");
  EXPECT_EQ(reqs[0]["rawPath"], "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream");
}

TEST(BedrockChat, ConverseAndSessionCredentials) {
  FakeBedrock fake("FwoGZXIvYXdzEBYaDH+session/token==");
  REQUIRE_FAKE(fake);
  BedrockChat chat({kModel, false, 0}, Runtime(fake, "test/secret/Key+1", "FwoGZXIvYXdzEBYaDH+session/token=="));
  std::string text;
  int calls = 0;
  auto usage = chat.Chat(kConversation, Options(), [&](std::string_view d) {
    text += d;
    ++calls;
    return true;
  });
  ASSERT_TRUE(usage.ok()) << usage.status().ToString();
  EXPECT_EQ(text, kEcho);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(usage->finish_reason, "stop");
  EXPECT_EQ(usage->completion_tokens, 7);
  // Without the session token the server refuses.
  BedrockChat no_token({kModel, false, 0}, Runtime(fake));
  auto refused = no_token.Chat(kConversation, Options(), [](std::string_view) { return true; });
  EXPECT_EQ(refused.status().kind(), ErrorKind::kPermissionDenied);
}

TEST(BedrockChat, SinkCancelsTheStream) {
  FakeBedrock fake;
  REQUIRE_FAKE(fake);
  BedrockChat chat({kModel, true, 0}, Runtime(fake));
  std::string text;
  auto usage = chat.Chat(kConversation, Options(), [&](std::string_view d) {
    text += d;
    return false;
  });
  ASSERT_TRUE(usage.ok()) << usage.status().ToString();
  EXPECT_EQ(usage->finish_reason, "cancelled");
  EXPECT_EQ(text, "model=" + kModel + "|");
}

TEST(BedrockChat, ExceptionFramesAndRefusalsAreErrors) {
  FakeBedrock fake;
  REQUIRE_FAKE(fake);
  auto sink = [](std::string_view) { return true; };
  auto throttled = BedrockChat({"fail.throttle", true, 0}, Runtime(fake)).Chat(kConversation, Options(), sink);
  EXPECT_EQ(throttled.status().kind(), ErrorKind::kUnavailable);
  EXPECT_NE(throttled.status().message().find("throttlingException: Too many requests"), std::string::npos)
      << throttled.status().message();
  auto invalid = BedrockChat({"fail.validation", true, 0}, Runtime(fake)).Chat(kConversation, Options(), sink);
  EXPECT_EQ(invalid.status().kind(), ErrorKind::kInvalidArgument);
  EXPECT_NE(invalid.status().message().find("HTTP 400 ValidationException"), std::string::npos) << invalid.status().message();
  // A wrong secret: the signature does not match.
  auto wrong = BedrockChat({kModel, true, 0}, Runtime(fake, "not/the/secret")).Chat(kConversation, Options(), sink);
  EXPECT_EQ(wrong.status().kind(), ErrorKind::kPermissionDenied);
  EXPECT_NE(wrong.status().message().find("Bedrock refused the AWS credentials (environment)"), std::string::npos)
      << wrong.status().message();
  EXPECT_NE(wrong.status().message().find("InvalidSignatureException"), std::string::npos);
  EXPECT_EQ(wrong.status().message().find("not/the/secret"), std::string::npos);
  // A signature made an hour ago has expired.
  auto expired = BedrockChat({kModel, true, 0}, Runtime(fake, "test/secret/Key+1", "", -3600))
                     .Chat(kConversation, Options(), sink);
  EXPECT_EQ(expired.status().kind(), ErrorKind::kPermissionDenied);
  EXPECT_NE(expired.status().message().find("refused the AWS credentials"), std::string::npos);
  EXPECT_NE(expired.status().message().find("Signature expired"), std::string::npos) << expired.status().message();
  // Bad conversations are refused before any request.
  auto empty = BedrockChat({kModel, true, 0}, Runtime(fake)).Chat({{"system", "x"}}, Options(), sink);
  EXPECT_EQ(empty.status().kind(), ErrorKind::kInvalidArgument);
  EXPECT_EQ(fake.Requests().size(), 2u);  // fail.throttle and fail.validation reached the routes
}

float Norm(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += double{x} * x;
  return static_cast<float>(std::sqrt(s));
}

TEST(BedrockEmbedder, TitanOneTextPerCall) {
  FakeBedrock fake;
  REQUIRE_FAKE(fake);
  auto e = BedrockEmbedder::Create({"amazon.titan-embed-text-v2:0", 0}, Runtime(fake));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ((*e)->dimensions(), 1024);
  EXPECT_EQ((*e)->model_id(), "bedrock:amazon.titan-embed-text-v2:0");
  auto v = (*e)->Embed({"congés payés", "remote work policy", "congés payés"}, EmbedKind::kPassage);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(v->size(), 3u);
  for (const auto& x : *v) {
    EXPECT_EQ(x.size(), 1024u);
    EXPECT_NEAR(Norm(x), 1.0f, 1e-4);
  }
  EXPECT_EQ((*v)[0], (*v)[2]);
  EXPECT_NE((*v)[0], (*v)[1]);
  Json reqs = fake.Requests();
  ASSERT_EQ(reqs.size(), 4u);  // the probe + one call per text
  // The calls run concurrently: they may reach the server in any order.
  std::multiset<std::string> sent;
  for (size_t r = 1; r < 4; ++r) {
    EXPECT_EQ(reqs[r]["rawPath"], "/model/amazon.titan-embed-text-v2%3A0/invoke");
    EXPECT_EQ(reqs[r]["body"]["normalize"], true);
    sent.insert(reqs[r]["body"]["inputText"].get<std::string>());
  }
  EXPECT_EQ(sent, (std::multiset<std::string>{"congés payés", "congés payés", "remote work policy"}));
  // A batch of 32 runs several calls at once; each vector stays with its text.
  std::vector<std::string> many;
  for (int i = 0; i < 32; ++i) many.push_back("chunk number " + std::to_string(i));
  auto batch = (*e)->Embed(many, EmbedKind::kPassage);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->size(), 32u);
  for (int i : {0, 7, 31}) {
    auto one = (*e)->Embed({many[i]}, EmbedKind::kPassage);
    ASSERT_TRUE(one.ok());
    EXPECT_EQ((*batch)[i], (*one)[0]) << i;
  }
  // Titan v2 with 256 dimensions.
  auto small = BedrockEmbedder::Create({"amazon.titan-embed-text-v2:0", 256}, Runtime(fake));
  ASSERT_TRUE(small.ok());
  EXPECT_EQ((*small)->dimensions(), 256);
  EXPECT_EQ((*small)->model_id(), "bedrock:amazon.titan-embed-text-v2:0:256");
}

TEST(BedrockEmbedder, CohereBatchesWithInputType) {
  FakeBedrock fake;
  REQUIRE_FAKE(fake);
  auto e = BedrockEmbedder::Create({"cohere.embed-multilingual-v3", 0}, Runtime(fake));
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ((*e)->dimensions(), 1024);
  EXPECT_EQ((*e)->max_batch(), 96u);
  std::vector<std::string> texts = {"un", "deux", "trois", "quatre", "cinq"};
  auto docs = (*e)->Embed(texts, EmbedKind::kPassage);
  auto queries = (*e)->Embed(texts, EmbedKind::kQuery);
  ASSERT_TRUE(docs.ok() && queries.ok());
  ASSERT_EQ(docs->size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_NEAR(Norm((*docs)[i]), 1.0f, 1e-4);
    EXPECT_NE((*docs)[i], (*queries)[i]);  // input_type changes the vector
  }
  Json reqs = fake.Requests();
  ASSERT_EQ(reqs.size(), 3u);  // probe + one batch each
  EXPECT_EQ(reqs[1]["body"]["input_type"], "search_document");
  EXPECT_EQ(reqs[2]["body"]["input_type"], "search_query");
  EXPECT_EQ(reqs[1]["body"]["texts"].size(), 5u);
  EXPECT_EQ((*e)->Embed(std::vector<std::string>(97, "x"), EmbedKind::kPassage).status().kind(),
            ErrorKind::kInvalidArgument);
  EXPECT_EQ(BedrockEmbedder::Create({"meta.llama3-8b-instruct-v1:0", 0}, Runtime(fake)).status().kind(),
            ErrorKind::kUnsupported);
}

// The factories build Bedrock models from the options and the process
// environment (credentials from AWS_ACCESS_KEY_ID..., region from --aws-region).
TEST(BedrockFactories, FromOptionsAndEnvironment) {
  FakeBedrock fake;
  REQUIRE_FAKE(fake);
  setenv("AWS_ACCESS_KEY_ID", "AKIDTESTBEDROCK", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "test/secret/Key+1", 1);
  unsetenv("AWS_SESSION_TOKEN");
  unsetenv("AWS_PROFILE");
  Config config;
  config.chat = "bedrock";
  config.aws_region = kRegion;
  config.bedrock_endpoint = fake.url();
  EXPECT_EQ(MakeChatModel(config).status().kind(), ErrorKind::kInvalidArgument);  // no --chat-model
  config.chat_model = kModel;
  auto chat = MakeChatModel(config);
  ASSERT_TRUE(chat.ok()) << chat.status().ToString();
  std::string text;
  auto usage = (*chat)->Chat(kConversation, Options(), [&](std::string_view d) {
    text += d;
    return true;
  });
  ASSERT_TRUE(usage.ok()) << usage.status().ToString();
  EXPECT_EQ(text, kEcho);
  config.embedder = "bedrock";
  config.embed_model = "cohere.embed-english-v3";
  auto emb = MakeEmbedder(config);
  ASSERT_TRUE(emb.ok()) << emb.status().ToString();
  EXPECT_EQ((*emb)->model_id(), "bedrock:cohere.embed-english-v3");
}

}  // namespace
}  // namespace savoir
