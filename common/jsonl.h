#pragma once
// JSON Lines: one object per line; blank lines skipped; errors name file and line.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace reckon {

std::vector<nlohmann::json> read_jsonl(const std::string& path);

}  // namespace reckon
