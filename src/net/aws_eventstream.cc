#include "net/aws_eventstream.h"

#include <zlib.h>

#include <algorithm>

namespace savoir {
namespace {

uint32_t ReadU32(const char* p) {
  auto b = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

uint64_t ReadBE(const char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void PutBE(std::string* out, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

uint32_t Crc32(std::string_view data, uint32_t crc) {
  uLong c = crc;
  // zlib takes uInt lengths; feed in pieces to stay within them.
  while (!data.empty()) {
    uInt n = static_cast<uInt>(std::min<size_t>(data.size(), 1u << 30));
    c = crc32(c, reinterpret_cast<const Bytef*>(data.data()), n);
    data.remove_prefix(n);
  }
  return static_cast<uint32_t>(c);
}

const EventHeaderValue* EventStreamMessage::Find(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return &v;
  }
  return nullptr;
}

std::string EventStreamMessage::Text(std::string_view name) const {
  const EventHeaderValue* v = Find(name);
  if (!v || (v->type != EventHeaderType::kString && v->type != EventHeaderType::kByteArray)) return "";
  return v->bytes;
}

Result<std::string> EncodeEventStreamMessage(const EventStreamMessage& message) {
  std::string headers;
  for (const auto& [name, v] : message.headers) {
    if (name.empty() || name.size() > 255) {
      return Status(ErrorKind::kInvalidArgument, "event stream header name must be 1 to 255 bytes");
    }
    headers.push_back(static_cast<char>(name.size()));
    headers += name;
    headers.push_back(static_cast<char>(v.type));
    switch (v.type) {
      case EventHeaderType::kTrue:
      case EventHeaderType::kFalse: break;
      case EventHeaderType::kByte: PutBE(&headers, static_cast<uint64_t>(v.integer), 1); break;
      case EventHeaderType::kShort: PutBE(&headers, static_cast<uint64_t>(v.integer), 2); break;
      case EventHeaderType::kInteger: PutBE(&headers, static_cast<uint64_t>(v.integer), 4); break;
      case EventHeaderType::kLong:
      case EventHeaderType::kTimestamp: PutBE(&headers, static_cast<uint64_t>(v.integer), 8); break;
      case EventHeaderType::kByteArray:
      case EventHeaderType::kString:
        if (v.bytes.size() > 32767) {
          return Status(ErrorKind::kTooLarge, "event stream header '" + name + "' value is over 32767 bytes");
        }
        PutBE(&headers, v.bytes.size(), 2);
        headers += v.bytes;
        break;
      case EventHeaderType::kUuid:
        if (v.bytes.size() != 16) {
          return Status(ErrorKind::kInvalidArgument, "event stream uuid header '" + name + "' must be 16 bytes");
        }
        headers += v.bytes;
        break;
      default: return Status(ErrorKind::kInvalidArgument, "unknown event stream header type");
    }
  }
  uint64_t total = 12 + uint64_t{headers.size()} + message.payload.size() + 4;
  if (headers.size() > kEventStreamMaxHeaders || total > kEventStreamMaxMessage) {
    return Status(ErrorKind::kTooLarge, "event stream message of " + std::to_string(total) + " bytes is over the limit");
  }
  std::string out;
  out.reserve(total);
  PutBE(&out, total, 4);
  PutBE(&out, headers.size(), 4);
  PutBE(&out, Crc32(out), 4);
  out += headers;
  out += message.payload;
  PutBE(&out, Crc32(out), 4);
  return out;
}

Status EventStreamDecoder::DecodeOne(std::string_view frame, EventStreamMessage* message) const {
  std::string at = " (message at byte " + std::to_string(offset_) + " of the stream)";
  uint32_t headers_len = ReadU32(frame.data() + 4);
  uint32_t message_crc = ReadU32(frame.data() + frame.size() - 4);
  if (Crc32(frame.substr(0, frame.size() - 4)) != message_crc) {
    return Status(ErrorKind::kCorrupt, "event stream message CRC mismatch" + at);
  }
  const char* p = frame.data() + 12;
  const char* end = p + headers_len;
  auto need = [&](size_t n) { return static_cast<size_t>(end - p) >= n; };
  while (p < end) {
    size_t name_len = static_cast<unsigned char>(*p++);
    if (name_len == 0 || !need(name_len + 1)) {
      return Status(ErrorKind::kCorrupt, "event stream header name overruns the headers" + at);
    }
    std::string name(p, name_len);
    p += name_len;
    EventHeaderValue v;
    uint8_t type = static_cast<uint8_t>(*p++);
    if (type > 9) {
      return Status(ErrorKind::kCorrupt, "event stream header '" + name + "' has unknown type " +
                                             std::to_string(type) + at);
    }
    v.type = static_cast<EventHeaderType>(type);
    static const int kFixed[] = {0, 0, 1, 2, 4, 8, -1, -1, 8, 16};
    int fixed = kFixed[type];
    if (fixed >= 0) {
      if (!need(fixed)) return Status(ErrorKind::kCorrupt, "event stream header '" + name + "' value overruns" + at);
      switch (v.type) {
        case EventHeaderType::kTrue: v.integer = 1; break;
        case EventHeaderType::kFalse: v.integer = 0; break;
        case EventHeaderType::kByte: v.integer = static_cast<int8_t>(ReadBE(p, 1)); break;
        case EventHeaderType::kShort: v.integer = static_cast<int16_t>(ReadBE(p, 2)); break;
        case EventHeaderType::kInteger: v.integer = static_cast<int32_t>(ReadBE(p, 4)); break;
        case EventHeaderType::kLong:
        case EventHeaderType::kTimestamp: v.integer = static_cast<int64_t>(ReadBE(p, 8)); break;
        case EventHeaderType::kUuid: v.bytes.assign(p, 16); break;
        default: break;
      }
      p += fixed;
    } else {
      if (!need(2)) return Status(ErrorKind::kCorrupt, "event stream header '" + name + "' length overruns" + at);
      size_t len = ReadBE(p, 2);
      p += 2;
      if (!need(len)) return Status(ErrorKind::kCorrupt, "event stream header '" + name + "' value overruns" + at);
      v.bytes.assign(p, len);
      p += len;
    }
    message->headers.emplace_back(std::move(name), std::move(v));
  }
  message->payload.assign(end, frame.data() + frame.size() - 4);
  return Status::Ok();
}

Status EventStreamDecoder::Feed(std::string_view chunk, std::vector<EventStreamMessage>* out) {
  if (!status_.ok()) return status_;
  buffer_.append(chunk);
  size_t pos = 0;
  while (buffer_.size() - pos >= 12) {
    const char* p = buffer_.data() + pos;
    uint32_t total = ReadU32(p), headers_len = ReadU32(p + 4), prelude_crc = ReadU32(p + 8);
    std::string at = " (message at byte " + std::to_string(offset_) + " of the stream)";
    if (Crc32(std::string_view(p, 8)) != prelude_crc) {
      status_ = Status(ErrorKind::kCorrupt, "event stream prelude CRC mismatch" + at);
    } else if (total < 16 || total > kEventStreamMaxMessage) {
      status_ = Status(ErrorKind::kCorrupt, "event stream message length " + std::to_string(total) +
                                                " is outside 16.." + std::to_string(kEventStreamMaxMessage) + at);
    } else if (headers_len > kEventStreamMaxHeaders || uint64_t{headers_len} + 16 > total) {
      status_ = Status(ErrorKind::kCorrupt, "event stream headers length " + std::to_string(headers_len) +
                                                " does not fit a message of " + std::to_string(total) + " bytes" + at);
    }
    if (!status_.ok()) break;
    if (buffer_.size() - pos < total) break;
    EventStreamMessage message;
    status_ = DecodeOne(std::string_view(p, total), &message);
    if (!status_.ok()) break;
    out->push_back(std::move(message));
    pos += total;
    offset_ += total;
  }
  buffer_.erase(0, pos);
  return status_;
}

}  // namespace savoir
