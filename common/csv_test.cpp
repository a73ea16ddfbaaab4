#include "common/csv.h"

#include <catch2/catch.hpp>
#include <sstream>

#include "common/error.h"

using namespace reckon;

TEST_CASE("CSV reader handles quotes, doubled quotes, embedded newlines and CRLF", "[csv]") {
  std::istringstream in("a,b,c\r\n1,\"x, y\",\"he said \"\"hi\"\"\"\n2,\"multi\nline\",z\n3,,\n");
  CsvReader r(in);
  auto h = r.next();
  REQUIRE(h);
  CHECK(h->fields == std::vector<std::string>{"a", "b", "c"});
  CHECK(h->line == 1);
  auto r1 = r.next();
  REQUIRE(r1);
  CHECK(r1->fields == std::vector<std::string>{"1", "x, y", "he said \"hi\""});
  CHECK(r1->line == 2);
  auto r2 = r.next();
  REQUIRE(r2);
  CHECK(r2->fields[1] == "multi\nline");
  CHECK(r2->line == 3);
  auto r3 = r.next();
  REQUIRE(r3);
  CHECK(r3->line == 5);  // the quoted newline advanced the physical line count
  CHECK(r3->fields == std::vector<std::string>{"3", "", ""});
  CHECK_FALSE(r.next());
}

TEST_CASE("CSV reader names the line of an unterminated quote", "[csv]") {
  std::istringstream in("a,b\n1,\"open\n");
  CsvReader r(in);
  r.next();
  CHECK_THROWS_WITH(r.next(), Catch::Contains("line 2") && Catch::Contains("unterminated"));
}

TEST_CASE("csv_escape quotes only what needs it and round-trips", "[csv]") {
  CHECK(csv_escape("plain") == "plain");
  std::string tricky = "a,\"b\"\nc";
  std::istringstream in(csv_escape(tricky) + "\n");
  CsvReader r(in);
  CHECK(r.next()->fields[0] == tricky);
}
