#include "common/secret.h"

#include <sodium.h>

#include "common/file.h"

namespace savoir {
namespace {

constexpr char kPrefix[] = "sb1:";

}  // namespace

std::string ToBase64(const std::string& raw) {
  std::string out(sodium_base64_ENCODED_LEN(raw.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()), raw.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

namespace {

bool FromBase64Raw(const std::string& b64, std::string* raw) {
  raw->assign(b64.size(), '\0');
  size_t len = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(raw->data()), raw->size(), b64.data(), b64.size(),
                        " \t\r\n", &len, nullptr, sodium_base64_VARIANT_ORIGINAL) != 0)
    return false;
  raw->resize(len);
  return true;
}

}  // namespace

bool IsSealed(const std::string& value) { return value.rfind(kPrefix, 0) == 0; }

Result<SecretKey> SecretKey::FromBase64(const std::string& b64) {
  if (sodium_init() < 0) return Status(ErrorKind::kInternal, "libsodium failed to initialize");
  SecretKey k;
  if (!FromBase64Raw(b64, &k.key_) || k.key_.size() != crypto_secretbox_KEYBYTES)
    return Status(ErrorKind::kInvalidArgument,
                  "the secret key must be base64 of 32 bytes (e.g. `head -c32 /dev/urandom | base64`)");
  return k;
}

Result<SecretKey> SecretKey::FromConfig(const Config& config) {
  if (!config.secret_key_file.empty()) {
    auto bytes = ReadFile(config.secret_key_file);
    if (!bytes.ok())
      return Status(ErrorKind::kNotFound, "cannot read the secret key file " + config.secret_key_file);
    auto key = FromBase64(*bytes);
    if (!key.ok()) return Status(key.status().kind(), config.secret_key_file + ": " + key.status().message());
    return key;
  }
  if (!config.secret_key_base64.empty()) {
    auto key = FromBase64(config.secret_key_base64);
    if (!key.ok()) return Status(key.status().kind(), "SAVOIR_SECRET_KEY: " + key.status().message());
    return key;
  }
  return Status(ErrorKind::kNotFound,
                "no secret key configured: set --secret-key-file or SAVOIR_SECRET_KEY (base64 of 32 bytes)");
}

std::string SecretKey::GenerateBase64() {
  if (sodium_init() < 0) return "";
  std::string raw(crypto_secretbox_KEYBYTES, '\0');
  randombytes_buf(raw.data(), raw.size());
  return ToBase64(raw);
}

std::string SecretKey::Seal(const std::string& plaintext) const {
  std::string box(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plaintext.size(), '\0');
  auto* nonce = reinterpret_cast<unsigned char*>(box.data());
  randombytes_buf(nonce, crypto_secretbox_NONCEBYTES);
  crypto_secretbox_easy(nonce + crypto_secretbox_NONCEBYTES,
                        reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(), nonce,
                        reinterpret_cast<const unsigned char*>(key_.data()));
  return kPrefix + ToBase64(box);
}

Result<std::string> SecretKey::Open(const std::string& sealed) const {
  std::string box;
  const Status corrupt(ErrorKind::kCorrupt,
                       "a stored credential cannot be decrypted: wrong secret key, or the value was altered");
  if (!IsSealed(sealed) || !FromBase64Raw(sealed.substr(sizeof(kPrefix) - 1), &box) ||
      box.size() < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
    return corrupt;
  const auto* nonce = reinterpret_cast<const unsigned char*>(box.data());
  std::string plain(box.size() - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES, '\0');
  if (crypto_secretbox_open_easy(reinterpret_cast<unsigned char*>(plain.data()), nonce + crypto_secretbox_NONCEBYTES,
                                 box.size() - crypto_secretbox_NONCEBYTES, nonce,
                                 reinterpret_cast<const unsigned char*>(key_.data())) != 0)
    return corrupt;
  return plain;
}

}  // namespace savoir
