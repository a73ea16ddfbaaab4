#include "providers/sse.h"

#include <catch2/catch.hpp>
#include <vector>

using namespace reckon;

TEST_CASE("SSE events survive arbitrary chunk boundaries, CRLF, comments and multi-line data", "[sse]") {
  std::string wire = ": keep-alive\r\nevent: message_start\r\ndata: {\"a\":1}\r\n\r\ndata: line1\ndata: line2\n\ndata: [DONE]\n\n";
  for (size_t step : {1u, 2u, 3u, 7u, 1000u}) {
    std::vector<SseEvent> got;
    SseParser p([&](const SseEvent& e) { got.push_back(e); });
    for (size_t i = 0; i < wire.size(); i += step) p.feed(wire.data() + i, std::min(step, wire.size() - i));
    p.finish();
    INFO("chunk size " << step);
    REQUIRE(got.size() == 3);
    CHECK(got[0].event == "message_start");
    CHECK(got[0].data == "{\"a\":1}");
    CHECK(got[1].data == "line1\nline2");
    CHECK(got[2].data == "[DONE]");
  }
}

TEST_CASE("a stream cut without the closing blank line still yields its last event", "[sse]") {
  std::vector<SseEvent> got;
  SseParser p([&](const SseEvent& e) { got.push_back(e); });
  std::string wire = "data: {\"x\":1}\n\ndata: {\"partial\"";
  p.feed(wire.data(), wire.size());
  CHECK(got.size() == 1);
  p.finish();
  REQUIRE(got.size() == 2);
  CHECK(got[1].data == "{\"partial\"");
}
