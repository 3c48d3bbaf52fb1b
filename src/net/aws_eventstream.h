// The application/vnd.amazon.eventstream framing (Bedrock ConverseStream,
// InvokeModelWithResponseStream...). A message is
//   prelude: total length (u32 BE), headers length (u32 BE), CRC32 of those 8 bytes
//   headers: name length (u8), name, value type (u8), value
//   payload, then the CRC32 of everything before it.
// Header value types: 0 true, 1 false, 2 byte, 3 short, 4 integer, 5 long,
// 6 byte array (u16 length), 7 string (u16 length), 8 timestamp (i64 ms),
// 9 uuid (16 bytes). All integers are big-endian. CRC32 is zlib's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace savoir {

enum class EventHeaderType : uint8_t {
  kTrue = 0, kFalse = 1, kByte = 2, kShort = 3, kInteger = 4, kLong = 5,
  kByteArray = 6, kString = 7, kTimestamp = 8, kUuid = 9,
};

struct EventHeaderValue {
  EventHeaderType type = EventHeaderType::kString;
  int64_t integer = 0;  // kByte..kLong, kTimestamp (ms since the epoch); 1/0 for booleans
  std::string bytes;    // kByteArray, kString, kUuid (16 raw bytes)
};

struct EventStreamMessage {
  std::vector<std::pair<std::string, EventHeaderValue>> headers;
  std::string payload;
  // The value of a header, or nullptr.
  const EventHeaderValue* Find(std::string_view name) const;
  // A string (or byte array) header's text; "" when absent.
  std::string Text(std::string_view name) const;
};

// Limits of the format as AWS defines them.
inline constexpr uint32_t kEventStreamMaxMessage = 16 * 1024 * 1024;
inline constexpr uint32_t kEventStreamMaxHeaders = 128 * 1024;

// Serializes a message (for tests, fuzz round trips and fake servers).
Result<std::string> EncodeEventStreamMessage(const EventStreamMessage& message);

// Incremental decoder: feed the body as it arrives, in chunks of any size.
// After an error every later Feed returns the same error.
class EventStreamDecoder {
 public:
  // Appends every message completed by `chunk` to `out`.
  Status Feed(std::string_view chunk, std::vector<EventStreamMessage>* out);
  // True when no partial message is buffered (a clean end of stream).
  bool idle() const { return buffer_.empty() && status_.ok(); }
  size_t buffered() const { return buffer_.size(); }

 private:
  Status DecodeOne(std::string_view frame, EventStreamMessage* message) const;
  std::string buffer_;
  Status status_;
  uint64_t offset_ = 0;  // stream offset of buffer_[0], for messages
};

uint32_t Crc32(std::string_view data, uint32_t crc = 0);

}  // namespace savoir
