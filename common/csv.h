#pragma once
// RFC 4180 CSV reading (quoted fields, doubled quotes, newlines inside quotes, CRLF).
// Small enough to own: it reports the physical line each record starts on, which
// import errors must name, and it is fuzzed (tests/fuzz).
#include <istream>
#include <optional>
#include <string>
#include <vector>

namespace reckon {

struct CsvRecord {
  std::vector<std::string> fields;
  size_t line = 0;  // 1-based physical line where the record starts
};

class CsvReader {
 public:
  explicit CsvReader(std::istream& in, char sep = ',') : in_(in), sep_(sep) {}
  // Next record, or nullopt at end of input. Throws InputError on an unterminated quote.
  std::optional<CsvRecord> next();

 private:
  std::istream& in_;
  char sep_;
  size_t line_ = 1;
};

// Quotes a field for CSV output when it needs it.
std::string csv_escape(const std::string& field);

}  // namespace reckon
