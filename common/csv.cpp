#include "common/csv.h"

#include "common/error.h"

namespace reckon {

std::optional<CsvRecord> CsvReader::next() {
  int c = in_.get();
  if (c == EOF) return std::nullopt;
  CsvRecord rec;
  rec.line = line_;
  std::string field;
  bool quoted = false;      // inside a quoted section
  bool was_quoted = false;  // field began with a quote
  for (;; c = in_.get()) {
    if (quoted) {
      if (c == EOF) throw InputError("line " + std::to_string(rec.line) + ": unterminated quoted field");
      if (c == '"') {
        if (in_.peek() == '"') {
          in_.get();
          field.push_back('"');
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line_;
        field.push_back(static_cast<char>(c));
      }
      continue;
    }
    if (c == EOF || c == '\n' || c == '\r') {
      if (c == '\r' && in_.peek() == '\n') in_.get();
      if (c != EOF) ++line_;
      rec.fields.push_back(std::move(field));
      return rec;
    }
    if (c == sep_) {
      rec.fields.push_back(std::move(field));
      field.clear();
      was_quoted = false;
    } else if (c == '"' && field.empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else {
      field.push_back(static_cast<char>(c));
    }
  }
}

std::string csv_escape(const std::string& field) {
  if (field.find_first_of(",\"\n\r") == std::string::npos) return field;
  std::string out = "\"";
  for (char ch : field) {
    if (ch == '"') out.push_back('"');
    out.push_back(ch);
  }
  out.push_back('"');
  return out;
}

}  // namespace reckon
