#include "common/sha256.h"

#include <openssl/evp.h>

#include <fstream>
#include <memory>
#include <vector>

#include "common/error.h"
#include "common/text.h"

namespace reckon {
namespace {

// Fetching the algorithm and allocating a context cost more than hashing a short key, and a
// campaign hashes two keys per cell: both are made once per thread and reused.
EVP_MD_CTX* thread_context() {
  static const std::unique_ptr<EVP_MD, decltype(&EVP_MD_free)> md{EVP_MD_fetch(nullptr, "SHA256", nullptr), &EVP_MD_free};
  thread_local const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), &EVP_MD_CTX_free};
  EVP_DigestInit_ex2(ctx.get(), md.get(), nullptr);
  return ctx.get();
}

struct Hasher {
  EVP_MD_CTX* ctx = thread_context();
  void update(const char* p, size_t n) { EVP_DigestUpdate(ctx, p, n); }
  std::string hex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, md, &len);
    return to_hex(md, len);
  }
};

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  Hasher h;
  h.update(bytes.data(), bytes.size());
  return h.hex();
}

std::string sha256_file_hex(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open for reading");
  Hasher h;
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.update(buf.data(), static_cast<size_t>(in.gcount()));
  }
  return h.hex();
}

}  // namespace reckon
