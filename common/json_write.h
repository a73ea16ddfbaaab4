#pragma once
// JSON text written straight into a string, byte for byte as nlohmann::json::dump() would write the
// same values (UTF-8 kept, controls escaped as \u00xx in lower case, no spaces): for the texts built
// once per request (request keys, request bodies), where building a DOM to dump it costs more than
// the rest of the request.
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/message.h"

namespace reckon {

// A JSON string; invalid UTF-8 throws nlohmann's own error (as dump() does).
void append_json_string(std::string& out, std::string_view s);
// [{"content":…,"role":…},…]: messages with their keys in sorted order.
void append_json_messages(std::string& out, const std::vector<Message>& messages);
// As nlohmann writes a double (shortest round-trip form, ".0" on whole numbers).
void append_json_number(std::string& out, double v);
// Any value, as v.dump() writes it (compact; objects in nlohmann's own key order): for a value kept as
// text once per answer, such as the usage a provider sent.
void append_json(std::string& out, const nlohmann::json& v);

}  // namespace reckon
