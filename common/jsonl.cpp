#include "common/jsonl.h"

#include <fstream>

#include "common/error.h"
#include "common/text.h"

namespace reckon {

void for_each_jsonl(const std::string& path, const std::function<void(size_t line, nlohmann::json&& row)>& row) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open");
  std::string line;
  size_t n = 0;
  while (std::getline(in, line))
    if (auto j = parse_jsonl_object(line, path, ++n)) row(n, std::move(*j));
}

std::optional<nlohmann::json> parse_jsonl_object(const std::string& line, const std::string& path, size_t line_no) {
  if (trim(line).empty()) return std::nullopt;
  auto j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw InputError(path + ":" + std::to_string(line_no) + ": not a JSON object");
  return j;
}

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> rows;
  for_each_jsonl(path, [&](size_t, nlohmann::json&& j) { rows.push_back(std::move(j)); });
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
