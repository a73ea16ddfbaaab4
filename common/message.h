#pragma once
// One chat message: what tasks write and providers send.
#include <string>

namespace reckon {

struct Message {
  std::string role;  // system, user, assistant
  std::string content;
};

}  // namespace reckon
