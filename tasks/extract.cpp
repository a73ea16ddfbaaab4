#include "tasks/extract.h"

#include <cctype>
#include <map>
#include <memory>
#include <mutex>
#include <regex>
#include <sstream>
#include <vector>

#include "common/text.h"

namespace reckon {

namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) s.replace(pos, from.size(), to);
}

std::string clean_number(std::string n) {
  std::string out;
  for (char c : n)
    if (c != ',' && c != '$') out += c;
  while (!out.empty() && out.back() == '.') out.pop_back();
  return out;
}

}  // namespace

// The last match of -?[$]?[0-9][0-9,]*(?:\.[0-9]+)? scanning left to right (as a regex search
// would), written out: std::regex costs hundreds of instructions per character of a long answer.
std::optional<std::string> extract_last_number(const std::string& text) {
  const size_t n = text.size();
  auto digit = [&](size_t i) { return i < n && text[i] >= '0' && text[i] <= '9'; };
  std::optional<std::pair<size_t, size_t>> last;  // [begin, end)
  for (size_t i = 0; i < n;) {
    size_t j = i;
    if (text[j] == '-') ++j;
    if (j < n && text[j] == '$') ++j;
    if (!digit(j)) {
      ++i;
      continue;
    }
    size_t k = j + 1;
    while (digit(k) || (k < n && text[k] == ',')) ++k;
    if (k < n && text[k] == '.' && digit(k + 1)) {
      k += 2;
      while (digit(k)) ++k;
    }
    last = {i, k};
    i = k;
  }
  if (!last) return std::nullopt;
  return clean_number(text.substr(last->first, last->second - last->first));
}

std::optional<std::string> gsm8k_reference(const std::string& solution) {
  auto pos = solution.rfind("####");
  if (pos == std::string::npos) return std::nullopt;
  return clean_number(trim(solution.substr(pos + 4)));
}

std::optional<std::string> extract_boxed(const std::string& text) {
  size_t at = std::string::npos, tag_len = 0;
  for (std::string tag : {"\\boxed", "\\fbox"}) {
    size_t p = text.rfind(tag);
    if (p != std::string::npos && (at == std::string::npos || p > at)) at = p, tag_len = tag.size();
  }
  if (at == std::string::npos) return std::nullopt;
  size_t after = at + tag_len;
  size_t open = text.find('{', after);
  if (open == std::string::npos || trim(text.substr(after, open - after)) != "") {
    // "\boxed 5" form: the next word
    std::string rest = trim(text.substr(after));
    if (rest.empty()) return std::nullopt;
    return rest.substr(0, rest.find_first_of(" $\n"));
  }
  int depth = 0;
  for (size_t i = open; i < text.size(); ++i) {
    if (text[i] == '{') ++depth;
    if (text[i] == '}' && --depth == 0) return text.substr(open + 1, i - open - 1);
  }
  return std::nullopt;  // unbalanced: the answer was cut off
}

std::string normalize_math(const std::string& answer) {
  std::string s = trim(answer);
  if (auto inner = extract_boxed(s); inner && s.rfind("\\boxed", 0) == 0) s = *inner;
  // \text{...} and \mbox{...} keep their content
  static const std::regex text_cmd(R"(\\(?:text|textbf|mbox|mathrm)\{([^{}]*)\})");
  s = std::regex_replace(s, text_cmd, "$1");
  for (const char* drop : {"\\left", "\\right", "\\!", "\\,", "\\;", "\\:", "\\ ", "^{\\circ}", "^\\circ", "\\circ", "\\$",
                           "$", "\\%", "%", "\\displaystyle"})
    replace_all(s, drop, "");
  replace_all(s, "\\dfrac", "\\frac");
  replace_all(s, "\\tfrac", "\\frac");
  std::string out;
  for (char c : s)
    if (!std::isspace(static_cast<unsigned char>(c))) out += c;
  s = out;
  // "x=5", "k=12" -> the value
  static const std::regex assign(R"(^[a-zA-Z](?:_\{?[0-9a-z]+\}?)?=(.+)$)");
  std::smatch m;
  if (std::regex_match(s, m, assign)) s = m[1];
  while (!s.empty() && s.back() == '.') s.pop_back();
  static const std::regex thousands(R"(^-?\d{1,3}(,\d{3})+(\.\d+)?$)");
  if (std::regex_match(s, thousands)) replace_all(s, ",", "");
  // \frac12 -> \frac{1}{2}
  static const std::regex short_frac(R"(\\frac(\d)(\d))");
  s = std::regex_replace(s, short_frac, "\\frac{$1}{$2}");
  return s;
}

bool math_equal(const std::string& a, const std::string& b) {
  std::string na = normalize_math(a), nb = normalize_math(b);
  if (na == nb) return true;
  auto da = parse_double(na), db = parse_double(nb);
  return da && db && std::abs(*da - *db) <= 1e-9 * std::max(1.0, std::abs(*db));
}

namespace {

// The choice patterns for letters A..last, built once per letter range.
struct ChoicePatterns {
  std::regex answer, boxed, alone;
};

const ChoicePatterns& choice_patterns(char last) {
  static std::mutex mu;
  static std::map<char, std::unique_ptr<ChoicePatterns>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto& p = cache[last];
  if (!p) {
    std::string letters = std::string("A-") + last;
    p = std::make_unique<ChoicePatterns>(ChoicePatterns{
        std::regex("(?:answer|Answer|ANSWER)\\s*(?:is)?\\s*[:：]?\\s*\\**\\s*\\(?\\$?(?:\\\\boxed\\{|\\\\text\\{|\\\\textbf\\{)?\\s*([" +
                   letters + "])\\b"),
        std::regex("\\\\boxed\\{\\s*(?:\\\\text\\{)?([" + letters + "])\\b"),
        std::regex("^[*(\\[]*([" + letters + "])[*)\\].:]*$")});
  }
  return *p;
}

}  // namespace

std::optional<char> extract_choice(const std::string& text, char last) {
  if (last < 'A' || last > 'Z') last = 'D';
  const ChoicePatterns& pat = choice_patterns(last);
  // Whitespace runs collapsed first: the patterns' consecutive \s* would otherwise try every split
  // of a long run (a fuzzer found answers with dozens of blank lines taking seconds), and a run
  // matches \s* exactly as one space does.
  std::string flat;
  flat.reserve(text.size());
  for (char ch : text) {
    const bool space = ch == ' ' || (ch >= '\t' && ch <= '\r');
    if (!space) flat += ch;
    else if (flat.empty() || flat.back() != ' ') flat += ' ';
  }
  std::optional<char> found;
  for (auto it = std::sregex_iterator(flat.begin(), flat.end(), pat.answer); it != std::sregex_iterator(); ++it)
    found = (*it)[1].str()[0];
  if (found) return found;
  for (auto it = std::sregex_iterator(flat.begin(), flat.end(), pat.boxed); it != std::sregex_iterator(); ++it)
    found = (*it)[1].str()[0];
  if (found) return found;
  // A final line that is only the letter, possibly decorated.
  std::istringstream in(text);
  std::string line, last_line;
  while (std::getline(in, line))
    if (!trim(line).empty()) last_line = trim(line);
  std::smatch m;
  if (std::regex_match(last_line, m, pat.alone)) return m[1].str()[0];
  return std::nullopt;
}

std::optional<std::string> extract_code_block(const std::string& text) {
  size_t open = text.find("```");
  if (open == std::string::npos) return std::nullopt;
  size_t body = text.find('\n', open);
  if (body == std::string::npos) return std::nullopt;
  size_t close = text.find("```", body + 1);
  return text.substr(body + 1, close == std::string::npos ? std::string::npos : close - body - 1);
}

std::string normalize_text(const std::string& text) {
  std::string lowered;
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    lowered += std::ispunct(u) ? ' ' : static_cast<char>(std::tolower(u));
  }
  std::istringstream in(lowered);
  std::string word, out;
  while (in >> word) {
    if (word == "a" || word == "an" || word == "the") continue;
    out += (out.empty() ? "" : " ") + word;
  }
  return out;
}

}  // namespace reckon
