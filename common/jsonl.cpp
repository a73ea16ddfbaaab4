#include "common/jsonl.h"
#include "common/json_parse.h"

#include <algorithm>
#include <iterator>

#include <fstream>

#include "common/error.h"
#include "common/text.h"

namespace reckon {

std::optional<nlohmann::json> parse_jsonl_object(const std::string& line, const std::string& path, size_t line_no) {
  if (trim(line).empty()) return std::nullopt;
  auto j = parse_json(line, false);
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
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open " + what);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  try {
    return parse_json(text);
  } catch (const nlohmann::json::parse_error& e) {
    // Where it broke, as an editor shows it: line and column of the byte the parser stopped at.
    const size_t at = e.byte == 0 ? 0 : std::min(e.byte - 1, text.size());
    size_t line = 1, column = 1;
    for (size_t i = 0; i < at; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    const bool too_deep = std::string_view(e.what()).find("nested deeper") != std::string_view::npos;
    throw InputError(path + ":" + std::to_string(line) + ":" + std::to_string(column) + ": not valid JSON (" + what + "): " +
                     (too_deep ? "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels" : "the parser stopped here"));
  }
}

}  // namespace reckon
