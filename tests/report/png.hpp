#pragma once
// A minimal PNG reader for screenshot checks: 8-bit RGB/RGBA (what headless
// Chromium writes), zlib-inflated IDAT, all five row filters undone.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace prescale::test {

struct Image {
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::vector<std::uint32_t> pixels;  ///< 0xRRGGBB, row-major (alpha dropped)
};

/// Decodes the file; on failure returns an empty image and sets `error`.
Image read_png(const std::filesystem::path& path, std::string& error);

}  // namespace prescale::test
