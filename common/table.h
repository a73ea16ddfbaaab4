#pragma once
// Plain-text tables for terminal reports: left-aligned text, right-aligned numbers.
#include <string>
#include <vector>

namespace reckon {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header) : header_(std::move(header)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  // Columns from `first_numeric` on are right-aligned.
  std::string render(size_t first_numeric = 1) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace reckon
