#pragma once
// Answer extractors: pull the model's final answer out of free text, as the benchmarks' own
// graders and lm-evaluation-harness / simple-evals do (METHODS.md §5).
#include <optional>
#include <string>

namespace reckon {

// GSM8K: the last number in the text (commas, "$" and a trailing "." stripped), as text.
std::optional<std::string> extract_last_number(const std::string& text);
// The reference of a GSM8K solution: the number after "####".
std::optional<std::string> gsm8k_reference(const std::string& solution);
// MATH / AIME: the content of the last \boxed{...} or \fbox{...}, braces balanced.
std::optional<std::string> extract_boxed(const std::string& text);
// LaTeX answer normalization (spaces, \left/\right, \text{}, units like ^\circ, $ and %,
// dfrac/tfrac, trailing period, "x = 5" -> "5", "1,000" -> "1000").
std::string normalize_math(const std::string& answer);
// Equivalence after normalization; numbers compare numerically ("27.0" == "27").
bool math_equal(const std::string& a, const std::string& b);
// Multiple choice: the chosen letter (A-`last`), tolerant of "Answer: (B)", "Answer: **B**",
// "\boxed{B}", and a final line that is only "B", "(B)", "B)", "**B**".
std::optional<char> extract_choice(const std::string& text, char last = 'D');
// The first fenced code block (```python ... ``` or ``` ... ```), else nullopt.
std::optional<std::string> extract_code_block(const std::string& text);
// Lowercase, drop punctuation and articles, collapse whitespace (SQuAD-style).
std::string normalize_text(const std::string& text);

}  // namespace reckon
