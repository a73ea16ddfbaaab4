#pragma once
// A small PNG reader for tests that check screenshots (8-bit RGB/RGBA, non-interlaced: what
// Chromium writes). Throws std::runtime_error on anything else.
#include <cstdint>
#include <string>
#include <vector>

namespace reckon::test {

struct Image {
  int width = 0, height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3
  const uint8_t* at(int x, int y) const { return &rgb[(static_cast<size_t>(y) * width + x) * 3]; }
};

Image read_png(const std::string& path);

}  // namespace reckon::test
