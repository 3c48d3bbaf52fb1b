#include "answer/bedrock_chat.h"

#include "answer/chat_markers.h"
#include "common/json_read.h"

#include <nlohmann/json.hpp>

#include <chrono>

#include "net/aws_eventstream.h"

namespace savoir {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double MsSince(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

std::string FinishReason(const std::string& stop_reason) {
  if (stop_reason == "end_turn" || stop_reason == "stop_sequence") return "stop";
  if (stop_reason == "max_tokens") return "length";
  return stop_reason;
}

void ReadUsage(const Json& j, ChatUsage* usage) {
  if (!j.is_object() || !j.contains("usage") || !j["usage"].is_object()) return;
  const Json& u = j["usage"];
  if (u.contains("inputTokens") && u["inputTokens"].is_number()) usage->prompt_tokens = u["inputTokens"].get<int64_t>();
  if (u.contains("outputTokens") && u["outputTokens"].is_number())
    usage->completion_tokens = u["outputTokens"].get<int64_t>();
}

// An exception frame's kind: throttling and service faults are transient.
ErrorKind ExceptionKind(const std::string& type) {
  if (type == "throttlingException" || type == "serviceUnavailableException" ||
      type == "internalServerException" || type == "modelStreamErrorException" ||
      type == "modelNotReadyException") {
    return ErrorKind::kUnavailable;
  }
  if (type == "accessDeniedException") return ErrorKind::kPermissionDenied;
  return ErrorKind::kInvalidArgument;
}

}  // namespace

BedrockChat::BedrockChat(BedrockChatConfig config, std::shared_ptr<BedrockRuntime> runtime)
    : config_(std::move(config)), runtime_(std::move(runtime)) {}

Result<std::string> BedrockChat::RequestBody(const std::vector<ChatMessage>& messages, const ChatOptions& options) {
  Json system = Json::array(), msgs = Json::array();
  for (const auto& m : messages) {
    if (m.role == "system") {
      system.push_back({{"text", DefangChatMarkers(m.content)}});  // chat_markers.h
      continue;
    }
    if (m.role != "user" && m.role != "assistant") {
      return Status(ErrorKind::kInvalidArgument, "chat message role '" + m.role + "' is not system, user or assistant");
    }
    if (m.content.empty()) continue;  // Converse refuses empty text blocks
    if (!msgs.empty() && msgs.back()["role"] == m.role) {
      msgs.back()["content"].push_back({{"text", DefangChatMarkers(m.content)}});
    } else {
      msgs.push_back({{"role", m.role}, {"content", Json::array({{{"text", DefangChatMarkers(m.content)}}})}});
    }
  }
  if (msgs.empty() || msgs.front()["role"] != "user") {
    return Status(ErrorKind::kInvalidArgument, "a Bedrock conversation must start with a user message");
  }
  Json body = {{"messages", msgs}};
  if (!system.empty()) body["system"] = system;
  Json inference = {{"maxTokens", options.max_tokens}, {"temperature", options.temperature}};
  if (!options.stop.empty()) inference["stopSequences"] = options.stop;
  body["inferenceConfig"] = inference;
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<ChatUsage> BedrockChat::Chat(const std::vector<ChatMessage>& messages, const ChatOptions& options,
                                    const TokenSink& sink) {
  auto body = RequestBody(messages, options);
  if (!body.ok()) return body.status();
  ChatUsage usage;
  usage.model = name();
  auto start = Clock::now();

  if (!config_.stream) {
    auto resp = runtime_->Post(config_.model_id, "converse", *body, "");
    if (!resp.ok()) return resp.status();
    Json j = Json::parse(resp->body, nullptr, false);
    if (!j.is_object() || !j.contains("output")) {
      return Status(ErrorKind::kUnavailable, "Bedrock Converse answered something that is not a Converse response");
    }
    std::string text;
    const Json no_content = Json::array();
    const Json* content = JsonField(JsonObject(JsonObject(j, "output"), "message"), "content");
    if (!content || !content->is_array()) content = &no_content;
    for (const auto& block : *content) {
      if (block.is_object() && block.contains("text") && block["text"].is_string()) text += block["text"].get<std::string>();
    }
    usage.first_token_ms = MsSince(start);
    ReadUsage(j, &usage);
    usage.finish_reason = FinishReason(JsonString(j, "stopReason"));
    if (!text.empty() && !sink(text)) usage.finish_reason = "cancelled";
    usage.latency_ms = MsSince(start);
    return usage;
  }

  EventStreamDecoder decoder;
  std::vector<EventStreamMessage> frames;
  Status failure;
  bool stopped_by_sink = false, got_stop = false, got_first = false;
  BodySink on_body = [&](std::string_view chunk) {
    frames.clear();
    Status st = decoder.Feed(chunk, &frames);
    for (const auto& f : frames) {
      std::string kind = f.Text(":message-type");
      if (kind == "exception") {
        std::string type = f.Text(":exception-type");
        failure = Status(ExceptionKind(type), "Bedrock ConverseStream " + config_.model_id + " failed: " + type + ": " +
                                                  AwsErrorMessage(f.payload));
        return false;
      }
      if (kind == "error") {
        failure = Status(ErrorKind::kUnavailable, "Bedrock ConverseStream " + config_.model_id + " error " +
                                                      f.Text(":error-code") + ": " + f.Text(":error-message"));
        return false;
      }
      if (kind != "event") continue;
      std::string event = f.Text(":event-type");
      Json j = Json::parse(f.payload, nullptr, false);
      if (event == "contentBlockDelta") {
        if (!j.is_object() || !j.contains("delta") || !j["delta"].is_object()) continue;
        const Json& delta = j["delta"];
        if (!delta.contains("text") || !delta["text"].is_string()) continue;  // tool use, reasoning...
        std::string text = delta["text"].get<std::string>();
        if (text.empty()) continue;
        if (!got_first) {
          got_first = true;
          usage.first_token_ms = MsSince(start);
        }
        if (!sink(text)) {
          stopped_by_sink = true;
          return false;
        }
      } else if (event == "messageStop") {
        got_stop = true;
        if (j.is_object()) usage.finish_reason = FinishReason(JsonString(j, "stopReason"));
      } else if (event == "metadata") {
        ReadUsage(j, &usage);
      }
    }
    if (!st.ok()) {
      failure = Status(ErrorKind::kUnavailable, "Bedrock ConverseStream " + config_.model_id +
                                                    ": unreadable event stream: " + st.message());
      return false;
    }
    return true;
  };
  auto resp = runtime_->Post(config_.model_id, "converse-stream", *body, "", on_body);
  if (!failure.ok()) return failure;
  if (!resp.ok()) return resp.status();
  usage.latency_ms = MsSince(start);
  if (stopped_by_sink) {
    usage.finish_reason = "cancelled";
    return usage;
  }
  if (!decoder.idle()) {
    return Status(ErrorKind::kUnavailable, "Bedrock ConverseStream " + config_.model_id + ": the stream ended inside a frame");
  }
  if (!got_stop) {
    return Status(ErrorKind::kUnavailable, "Bedrock ConverseStream " + config_.model_id + ": the stream ended before messageStop");
  }
  return usage;
}

Result<std::unique_ptr<ChatModel>> MakeBedrockChat(const Config& config) {
  if (config.chat_model.empty()) {
    return Status(ErrorKind::kInvalidArgument, "--chat bedrock needs --chat-model (a Bedrock model id or inference profile)");
  }
  auto runtime = MakeBedrockRuntime(config.aws_region, config.bedrock_endpoint, config.model_idle_timeout_s * 1000,
                                    config.aws_sts_endpoint);
  if (!runtime.ok()) return runtime.status();
  BedrockChatConfig bc;
  bc.model_id = config.chat_model;
  return std::unique_ptr<ChatModel>(std::make_unique<BedrockChat>(bc, *runtime));
}

}  // namespace savoir
