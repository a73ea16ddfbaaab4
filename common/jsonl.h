#pragma once
// JSON Lines: one object per line; blank lines skipped; errors name file and line.
#include <nlohmann/json.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace reckon {

// One line of a JSONL file: nullopt when blank; InputError naming path:line unless an object.
std::optional<nlohmann::json> parse_jsonl_object(const std::string& line, const std::string& path, size_t line_no);
// Calls `row` with each object of a JSONL file in turn (line number, object), holding one at a
// time; blank lines are skipped; InputError names file:line of a line that is not an object.
void for_each_jsonl(const std::string& path, const std::function<void(size_t line, nlohmann::json&& row)>& row);
std::vector<nlohmann::json> read_jsonl(const std::string& path);
// One JSON document; InputError naming the file when it cannot be opened or parsed.
nlohmann::json read_json_file(const std::string& path, const std::string& what = "file");

}  // namespace reckon
