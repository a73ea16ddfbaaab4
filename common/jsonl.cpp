#include "common/jsonl.h"

#include <fstream>

#include "common/error.h"
#include "common/text.h"

namespace reckon {

std::optional<nlohmann::json> parse_jsonl_object(const std::string& line, const std::string& path, size_t line_no) {
  if (trim(line).empty()) return std::nullopt;
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw InputError(path + ":" + std::to_string(line_no) + ": not a JSON object");
  return j;
}

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open");
  std::vector<nlohmann::json> rows;
  std::string line;
  size_t n = 0;
  while (std::getline(in, line))
    if (auto j = parse_jsonl_object(line, path, ++n)) rows.push_back(std::move(*j));
  return rows;
}

nlohmann::json read_json_file(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open " + what);
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded()) throw InputError(path + ": not valid JSON");
  return j;
}

}  // namespace reckon
