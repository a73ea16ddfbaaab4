#pragma once
// JSON Lines: one object per line; blank lines skipped; errors name file and line.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace reckon {

std::vector<nlohmann::json> read_jsonl(const std::string& path);
// One JSON document; InputError naming the file when it cannot be opened or parsed.
nlohmann::json read_json_file(const std::string& path, const std::string& what = "file");

}  // namespace reckon
