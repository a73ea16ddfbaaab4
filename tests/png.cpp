#include "tests/png.h"

#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace reckon::test {
namespace {

uint32_t be32(const uint8_t* p) { return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3]; }

uint8_t paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return static_cast<uint8_t>(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}

}  // namespace

Image read_png(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> f((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  static const uint8_t kSig[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (f.size() < 8 || !std::equal(kSig, kSig + 8, f.begin())) throw std::runtime_error(path + ": not a PNG");
  Image img;
  int color = -1, channels = 0;
  std::vector<uint8_t> idat;
  for (size_t pos = 8; pos + 12 <= f.size();) {
    const uint32_t len = be32(&f[pos]);
    const std::string type(reinterpret_cast<const char*>(&f[pos + 4]), 4);
    if (pos + 12 + len > f.size()) throw std::runtime_error(path + ": truncated chunk " + type);
    const uint8_t* d = &f[pos + 8];
    if (type == "IHDR") {
      img.width = static_cast<int>(be32(d));
      img.height = static_cast<int>(be32(d + 4));
      color = d[9];
      if (d[8] != 8 || (color != 2 && color != 6) || d[12] != 0)
        throw std::runtime_error(path + ": only 8-bit RGB/RGBA, non-interlaced");
      channels = color == 6 ? 4 : 3;
    } else if (type == "IDAT") {
      idat.insert(idat.end(), d, d + len);
    } else if (type == "IEND") {
      break;
    }
    pos += 12 + len;
  }
  if (channels == 0) throw std::runtime_error(path + ": no IHDR");
  const size_t stride = static_cast<size_t>(img.width) * channels;
  std::vector<uint8_t> raw((stride + 1) * img.height);
  uLongf raw_len = raw.size();
  if (uncompress(raw.data(), &raw_len, idat.data(), idat.size()) != Z_OK || raw_len != raw.size())
    throw std::runtime_error(path + ": bad image data");
  std::vector<uint8_t> prev(stride, 0), cur(stride);
  img.rgb.resize(static_cast<size_t>(img.width) * img.height * 3);
  for (int y = 0; y < img.height; ++y) {
    const uint8_t* line = &raw[y * (stride + 1)];
    const uint8_t filter = line[0];
    for (size_t i = 0; i < stride; ++i) {
      const int a = i >= static_cast<size_t>(channels) ? cur[i - channels] : 0, b = prev[i],
                c = i >= static_cast<size_t>(channels) ? prev[i - channels] : 0;
      const uint8_t x = line[1 + i];
      switch (filter) {
        case 0: cur[i] = x; break;
        case 1: cur[i] = static_cast<uint8_t>(x + a); break;
        case 2: cur[i] = static_cast<uint8_t>(x + b); break;
        case 3: cur[i] = static_cast<uint8_t>(x + (a + b) / 2); break;
        case 4: cur[i] = static_cast<uint8_t>(x + paeth(a, b, c)); break;
        default: throw std::runtime_error(path + ": bad filter type");
      }
    }
    for (int x = 0; x < img.width; ++x)
      for (int k = 0; k < 3; ++k) img.rgb[(static_cast<size_t>(y) * img.width + x) * 3 + k] = cur[x * channels + k];
    std::swap(prev, cur);
  }
  return img;
}

}  // namespace reckon::test
