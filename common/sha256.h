#pragma once
// The one SHA-256 helper (OpenSSL EVP): fingerprints, data-pull checksums.
#include <string>
#include <string_view>

namespace reckon {

std::string sha256_hex(std::string_view bytes);
// Hashes a file in chunks; throws InputError when it cannot be read.
std::string sha256_file_hex(const std::string& path);

}  // namespace reckon
