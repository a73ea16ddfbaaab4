#pragma once
// The store's schema as forward migrations: migrations()[i] takes user_version i to i+1.
#include <string>
#include <vector>

namespace reckon {

const std::vector<std::string>& migrations();
inline int64_t schema_version() { return static_cast<int64_t>(migrations().size()); }

}  // namespace reckon
