#include "common/status.h"

namespace savoir {

const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument: return "invalid_argument";
    case ErrorKind::kNotFound: return "not_found";
    case ErrorKind::kPermissionDenied: return "permission_denied";
    case ErrorKind::kAlreadyExists: return "already_exists";
    case ErrorKind::kUnsupported: return "unsupported";
    case ErrorKind::kTooLarge: return "too_large";
    case ErrorKind::kTimeout: return "timeout";
    case ErrorKind::kCorrupt: return "corrupt";
    case ErrorKind::kIo: return "io";
    case ErrorKind::kUnavailable: return "unavailable";
    case ErrorKind::kInternal: return "internal";
  }
  return "internal";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(ErrorKindName(kind())) + ": " + message();
}

}  // namespace savoir
