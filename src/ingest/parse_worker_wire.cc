#include "ingest/parse_worker_wire.h"

#include <cstring>

namespace savoir::wire {
namespace {

class Writer {
 public:
  template <typename T>
  void Put(T v) { out_.append(reinterpret_cast<const char*>(&v), sizeof(v)); }
  void Str(std::string_view s) {
    Put<uint32_t>(static_cast<uint32_t>(s.size()));
    out_.append(s);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <typename T>
  bool Get(T* v) {
    if (in_.size() < sizeof(T)) return false;
    memcpy(v, in_.data(), sizeof(T));
    in_.remove_prefix(sizeof(T));
    return true;
  }
  bool Str(std::string* s) {
    uint32_t n;
    if (!Get(&n) || in_.size() < n) return false;
    s->assign(in_.substr(0, n));
    in_.remove_prefix(n);
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

Status Malformed(const char* what) {
  return Status(ErrorKind::kInternal, std::string("malformed worker response: ") + what);
}

}  // namespace

std::string Encode(const Result<ParsedDocument>& result) {
  Writer w;
  if (!result.ok()) {
    w.Put<uint8_t>(0);
    w.Put<uint8_t>(static_cast<uint8_t>(result.status().kind()));
    w.Str(result.status().message());
    return w.Take();
  }
  const ParsedDocument& d = result.value();
  w.Put<uint8_t>(1);
  w.Str(d.title);
  w.Str(d.text);
  w.Str(d.language);
  w.Str(d.format);
  w.Str(d.author);
  w.Put<int64_t>(d.created_at);
  w.Put<uint32_t>(static_cast<uint32_t>(d.blocks.size()));
  for (const Block& b : d.blocks) {
    w.Put<uint8_t>(static_cast<uint8_t>(b.kind));
    w.Put<int32_t>(b.level);
    w.Put<uint32_t>(b.begin);
    w.Put<uint32_t>(b.end);
  }
  return w.Take();
}

Result<ParsedDocument> Decode(std::string_view payload) {
  Reader r(payload);
  uint8_t ok;
  if (!r.Get(&ok)) return Malformed("empty");
  if (ok == 0) {
    uint8_t kind;
    std::string msg;
    if (!r.Get(&kind) || !r.Str(&msg) || !r.done()) return Malformed("bad error record");
    if (kind > static_cast<uint8_t>(ErrorKind::kInternal)) return Malformed("bad error kind");
    return Status(static_cast<ErrorKind>(kind), std::move(msg));
  }
  ParsedDocument d;
  uint32_t n;
  if (!r.Str(&d.title) || !r.Str(&d.text) || !r.Str(&d.language) || !r.Str(&d.format) ||
      !r.Str(&d.author) || !r.Get(&d.created_at) || !r.Get(&n)) {
    return Malformed("truncated document");
  }
  if (n > d.text.size() + 1) return Malformed("too many blocks");
  d.blocks.resize(n);
  for (Block& b : d.blocks) {
    uint8_t kind;
    int32_t level;
    if (!r.Get(&kind) || !r.Get(&level) || !r.Get(&b.begin) || !r.Get(&b.end)) {
      return Malformed("truncated block");
    }
    if (kind > static_cast<uint8_t>(BlockKind::kQuote) || b.begin > b.end || b.end > d.text.size()) {
      return Malformed("block out of range");
    }
    b.kind = static_cast<BlockKind>(kind);
    b.level = level;
  }
  if (!r.done()) return Malformed("trailing bytes");
  return d;
}

}  // namespace savoir::wire
