// Status and Result<T>: expected failures are values, not exceptions.
// An error carries a kind (what went wrong, independent of transport) and a
// human message that names the item concerned. The HTTP boundary and the CLI
// map kinds to status codes / exit codes in one place each.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace savoir {

enum class ErrorKind {
  kInvalidArgument,   // the caller gave something malformed
  kNotFound,          // the named item does not exist
  kPermissionDenied,  // the principal may not see or do this
  kAlreadyExists,
  kUnsupported,       // a format or feature we do not handle
  kTooLarge,          // a size limit was exceeded
  kTimeout,           // a time limit was exceeded
  kCorrupt,           // stored data failed a consistency check
  kIo,                // the operating system refused (open, read, write)
  kUnavailable,       // a dependency is down (model, database)
  kInternal,          // a bug
};

const char* ErrorKindName(ErrorKind kind);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorKind kind, std::string message) : error_(Error{kind, std::move(message)}) {}

  static Status Ok() { return Status(); }

  bool ok() const { return !error_.has_value(); }
  ErrorKind kind() const { return error_->kind; }
  const std::string& message() const { return error_->message; }
  // "kind: message", for logs and one-line CLI errors.
  std::string ToString() const;

 private:
  struct Error {
    ErrorKind kind;
    std::string message;
  };
  std::optional<Error> error_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

#define SAVOIR_RETURN_IF_ERROR(expr)        \
  do {                                      \
    ::savoir::Status _st = (expr);          \
    if (!_st.ok()) return _st;              \
  } while (0)

#define SAVOIR_CONCAT_INNER(a, b) a##b
#define SAVOIR_CONCAT(a, b) SAVOIR_CONCAT_INNER(a, b)
#define SAVOIR_ASSIGN_OR_RETURN(lhs, expr)                         \
  auto SAVOIR_CONCAT(_res_, __LINE__) = (expr);                    \
  if (!SAVOIR_CONCAT(_res_, __LINE__).ok())                        \
    return SAVOIR_CONCAT(_res_, __LINE__).status();                \
  lhs = std::move(SAVOIR_CONCAT(_res_, __LINE__)).value()

}  // namespace savoir
