// Credentials encrypted at rest (libsodium secretbox: XSalsa20-Poly1305).
// A sealed value is "sb1:" + base64(nonce || ciphertext) and is what the
// store keeps; the key lives outside the store (a file or the environment),
// so a copy of savoir.db alone reveals no token.
#pragma once

#include <string>

#include "common/config.h"
#include "common/status.h"

namespace savoir {

// Standard base64 (RFC 4648, with padding) of raw bytes.
std::string ToBase64(const std::string& raw);


class SecretKey {
 public:
  // From --secret-key-file, else SAVOIR_SECRET_KEY / --secret-key.
  // kNotFound when neither is configured; kInvalidArgument when the key is
  // not base64 of 32 bytes (the message never contains the key).
  static Result<SecretKey> FromConfig(const Config& config);
  static Result<SecretKey> FromBase64(const std::string& b64);
  // A new random key, base64 (for `savoir secret-key` style bootstrapping and tests).
  static std::string GenerateBase64();

  std::string Seal(const std::string& plaintext) const;
  // kCorrupt when the value was not sealed by this key or was altered.
  Result<std::string> Open(const std::string& sealed) const;

 private:
  std::string key_;  // 32 raw bytes
};

bool IsSealed(const std::string& value);

}  // namespace savoir
