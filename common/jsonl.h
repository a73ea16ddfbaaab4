#pragma once
// JSON Lines: one object per line; blank lines skipped; errors name file and line.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace reckon {

// One line of a JSONL file: nullopt when blank; InputError naming path:line unless an object.
std::optional<nlohmann::json> parse_jsonl_object(const std::string& line, const std::string& path, size_t line_no);
std::vector<nlohmann::json> read_jsonl(const std::string& path);
// One JSON document; InputError naming the file when it cannot be opened or parsed.
nlohmann::json read_json_file(const std::string& path, const std::string& what = "file");

}  // namespace reckon
