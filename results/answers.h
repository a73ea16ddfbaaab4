#pragma once
// The answers themselves, per item and model: prompt, answer, extracted prediction, reference, score,
// tokens (thinking apart), cost, latency, error — what a reader opens first. Filtered and paged from
// SQLite for the dashboard; embedded (texts clipped) in the single-file report.
#include <cstddef>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "results/store.h"

namespace reckon {

struct AnswerFilter {
  std::optional<std::string> run;  // else the summary's scope: each campaign's latest run, and imports
  std::string model, task;
  std::string outcome;             // "" | correct (score ≥ 0.5) | wrong | error
  std::string search;              // in prompt, answer or prediction (case-insensitive, ASCII)
  size_t limit = 100, offset = 0;
  size_t clip = 0;                 // texts cut to this many bytes (at a UTF-8 boundary), 0: whole
};

// {"total": matching answers, "rows": [...]} ordered by task, model, item, repeat. InputError for an
// unknown outcome.
nlohmann::json answers_json(Store& store, const AnswerFilter& f);

// Two runs on the same items: per (model, task, item, repeat) answered in both, the pairs whose
// outcome differs — what a gate failure points at. {"a": run, "b": run, "same": n, "rows": [...]}.
nlohmann::json compare_answers(Store& store, const std::string& run_a, const std::string& run_b, size_t limit = 500);

}  // namespace reckon
