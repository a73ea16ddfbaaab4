#include "providers/retry.h"
#include "common/json_parse.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <regex>

#include "common/text.h"

namespace reckon {
namespace {

std::optional<std::string> header(const Headers& h, const std::string& name) {
  for (const auto& [k, v] : h)
    if (to_lower(k) == name) return trim(v);
  return std::nullopt;
}

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

double epoch(int y, int mo, int d, int h, int mi, double s) {
  return static_cast<double>(days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d))) * 86400.0 + h * 3600.0 +
         mi * 60.0 + s;
}

std::string body_message(const nlohmann::json& j) {
  if (j.contains("error")) {
    const auto& e = j["error"];
    if (e.is_object() && e.contains("message") && e["message"].is_string()) return e["message"].get<std::string>();
    if (e.is_string()) return e.get<std::string>();
  }
  if (j.contains("message") && j["message"].is_string()) return j["message"].get<std::string>();
  return "";
}

}  // namespace

std::optional<double> parse_go_duration(const std::string& raw) {
  std::string v = trim(raw);
  if (v.empty()) return std::nullopt;
  static const std::regex part(R"(([0-9]*\.?[0-9]+)(ms|us|µs|ns|h|m|s))");
  double total = 0;
  size_t consumed = 0;
  for (auto it = std::sregex_iterator(v.begin(), v.end(), part); it != std::sregex_iterator(); ++it) {
    if (static_cast<size_t>(it->position()) != consumed) return std::nullopt;
    consumed += static_cast<size_t>(it->length());
    double n = std::stod((*it)[1].str());
    std::string unit = (*it)[2].str();
    total += unit == "h" ? n * 3600 : unit == "m" ? n * 60 : unit == "s" ? n : unit == "ms" ? n / 1e3 : unit == "ns" ? n / 1e9 : n / 1e6;
  }
  if (consumed != v.size() || consumed == 0) return std::nullopt;
  return total;
}

std::optional<double> parse_rfc3339(const std::string& raw) {
  static const std::regex re(R"(^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2}(?:\.\d+)?)(Z|z|[+-]\d{2}:\d{2})$)");
  std::smatch m;
  std::string v = trim(raw);
  if (!std::regex_match(v, m, re)) return std::nullopt;
  double t = epoch(std::stoi(m[1]), std::stoi(m[2]), std::stoi(m[3]), std::stoi(m[4]), std::stoi(m[5]), std::stod(m[6]));
  std::string tz = m[7];
  if (tz.size() == 6) {
    double off = std::stoi(tz.substr(1, 2)) * 3600.0 + std::stoi(tz.substr(4, 2)) * 60.0;
    t -= tz[0] == '+' ? off : -off;
  }
  return t;
}

std::optional<double> parse_retry_after(const std::string& raw, double wall_now) {
  std::string v = trim(raw);
  if (auto secs = parse_double(v); secs && *secs >= 0) return *secs;
  // HTTP-date (IMF-fixdate): "Wed, 21 Oct 2015 07:28:00 GMT"
  static const std::regex re(R"(^[A-Za-z]{3}, (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$)");
  std::smatch m;
  if (!std::regex_match(v, m, re)) return std::nullopt;
  static const char* months = "JanFebMarAprMayJunJulAugSepOctNovDec";
  std::string mon = m[2];
  const char* pos = std::strstr(months, mon.c_str());
  if (!pos) return std::nullopt;
  int mo = static_cast<int>((pos - months) / 3) + 1;
  double t = epoch(std::stoi(m[3]), mo, std::stoi(m[1]), std::stoi(m[4]), std::stoi(m[5]), std::stod(m[6]));
  return std::max(0.0, t - wall_now);
}

std::optional<double> gemini_retry_delay(const std::string& body) {
  auto j = parse_json(body, false);
  if (j.is_discarded() || !j.contains("error") || !j["error"].is_object() || !j["error"].contains("details") ||
      !j["error"]["details"].is_array())
    return std::nullopt;
  for (const auto& d : j["error"]["details"])
    if (d.is_object() && d.value("@type", "").find("RetryInfo") != std::string::npos && d.contains("retryDelay") &&
        d["retryDelay"].is_string())
      return parse_go_duration(d["retryDelay"].get<std::string>());
  return std::nullopt;
}

bool retryable(ErrorClass c) {
  switch (c) {
    case ErrorClass::kRateLimit:
    case ErrorClass::kOverloaded:
    case ErrorClass::kServer:
    case ErrorClass::kTimeout:
    case ErrorClass::kConnection:
    case ErrorClass::kStream:
      return true;
    default:
      return false;
  }
}

Verdict classify_error_object(const nlohmann::json& error) {
  const nlohmann::json& e = error.is_object() && error.contains("error") && error["error"].is_object() ? error["error"] : error;
  auto text = [&](const char* k) -> std::string {
    if (!e.is_object() || !e.contains(k)) return "";
    if (e[k].is_string()) return e[k].get<std::string>();
    if (e[k].is_number_integer()) return std::to_string(e[k].get<int64_t>());
    return "";
  };
  const std::string type = text("type"), code = text("code"), status = text("status");
  std::string message = text("message");
  if (message.empty()) message = e.is_object() || e.is_array() ? e.dump() : (e.is_string() ? e.get<std::string>() : "");
  if (message.size() > 300) message = message.substr(0, 300) + "...";
  const std::string key = to_lower(type + " " + code + " " + status);
  const auto numeric = parse_int(code);
  auto has = [&](const char* s) { return key.find(s) != std::string::npos; };
  Verdict v;
  if (has("insufficient_quota") || has("billing")) {
    v.error_class = ErrorClass::kQuota;
    v.fatal = true;
  } else if (has("authentication") || has("permission") || has("unauthenticated") || has("invalid_api_key") ||
             (numeric && (*numeric == 401 || *numeric == 403))) {
    v.error_class = ErrorClass::kAuth;
    v.fatal = true;
  } else if (has("rate_limit") || has("resource_exhausted") || (numeric && *numeric == 429)) {
    v.error_class = ErrorClass::kRateLimit;
  } else if (has("overloaded") || has("unavailable") || (numeric && (*numeric == 503 || *numeric == 529))) {
    v.error_class = ErrorClass::kOverloaded;
  } else if (has("timeout") || has("deadline") || (numeric && *numeric == 408)) {
    v.error_class = ErrorClass::kTimeout;
  } else if (has("server_error") || has("api_error") || has("internal") || (numeric && *numeric >= 500)) {
    v.error_class = ErrorClass::kServer;
  } else {
    v.error_class = ErrorClass::kClient;
  }
  v.retryable = retryable(v.error_class);
  std::string label = !type.empty() ? type : !code.empty() ? code : status;
  v.message = "error in stream: " + (label.empty() || message.rfind(label, 0) == 0 ? "" : label + ": ") + message;
  return v;
}

Verdict classify_http_error(long status, const Headers& headers, const std::string& body, double wall_now) {
  Verdict v;
  auto j = parse_json(body, false);
  bool json = !j.is_discarded() && j.is_object();
  std::string msg = json ? body_message(j) : "";
  std::string code, type, gstatus, quota_id;
  if (json && j.contains("error") && j["error"].is_object()) {
    const auto& e = j["error"];
    if (e.contains("code") && e["code"].is_string()) code = e["code"].get<std::string>();
    if (e.contains("type") && e["type"].is_string()) type = e["type"].get<std::string>();
    if (e.contains("status") && e["status"].is_string()) gstatus = e["status"].get<std::string>();
    if (e.contains("details") && e["details"].is_array())
      for (const auto& d : e["details"])
        if (d.is_object() && d.contains("violations") && d["violations"].is_array())
          for (const auto& viol : d["violations"])
            if (viol.is_object() && viol.contains("quotaId") && viol["quotaId"].is_string()) quota_id = viol["quotaId"].get<std::string>();
  }
  if (msg.empty()) {
    bool html = body.find("<html") != std::string::npos || body.find("<!DOCTYPE") != std::string::npos ||
                body.find("<!doctype") != std::string::npos;
    msg = html ? "HTML error page" : body.substr(0, 200);
  }
  if (msg.size() > 300) msg = msg.substr(0, 300) + "...";
  v.message = "HTTP " + std::to_string(status) + (msg.empty() ? "" : ": " + msg);

  if (status == 429) {
    if (code == "insufficient_quota" || type == "insufficient_quota" || quota_id.find("PerDay") != std::string::npos) {
      v.error_class = ErrorClass::kQuota;
      v.fatal = true;
      return v;
    }
    v.error_class = ErrorClass::kRateLimit;
  } else if (status == 529 || status == 503) {
    v.error_class = ErrorClass::kOverloaded;
  } else if (status >= 500) {
    v.error_class = ErrorClass::kServer;
  } else if (status == 408) {
    v.error_class = ErrorClass::kTimeout;
  } else if (status == 409) {
    v.error_class = ErrorClass::kServer;
  } else if (status == 401 || status == 403) {
    v.error_class = ErrorClass::kAuth;
    v.fatal = true;
    return v;
  } else if (status == 402) {
    v.error_class = ErrorClass::kQuota;
    v.fatal = true;
    return v;
  } else if (status == 404) {
    v.error_class = ErrorClass::kClient;
    v.fatal = true;  // unknown model or endpoint: every request would fail the same way
    return v;
  } else {
    v.error_class = ErrorClass::kClient;
    return v;
  }
  v.retryable = true;

  // Hints, most explicit first.
  if (auto ms = header(headers, "retry-after-ms"); ms && parse_double(*ms)) {
    v.retry_after = *parse_double(*ms) / 1000.0;
  } else if (auto ra = header(headers, "retry-after")) {
    v.retry_after = parse_retry_after(*ra, wall_now);
  }
  if (!v.retry_after) v.retry_after = gemini_retry_delay(body);
  if (!v.retry_after) {
    std::optional<double> longest;
    for (const char* h : {"x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"})
      if (auto r = header(headers, h))
        if (auto d = parse_go_duration(*r)) longest = std::max(longest.value_or(0), *d);
    for (const char* h : {"anthropic-ratelimit-requests-reset", "anthropic-ratelimit-tokens-reset",
                          "anthropic-ratelimit-input-tokens-reset", "anthropic-ratelimit-output-tokens-reset"})
      if (auto r = header(headers, h))
        if (auto t = parse_rfc3339(*r)) longest = std::max(longest.value_or(0), std::max(0.0, *t - wall_now));
    v.retry_after = longest;
  }
  return v;
}

double Backoff::delay(int attempt) {
  double ceiling = std::min(cap_, base_ * std::pow(2.0, std::max(0, attempt - 1)));
  return std::uniform_real_distribution<double>(0, ceiling)(rng_);
}

std::string redact(std::string text, const std::string& secret) {
  if (secret.size() >= 4) {
    for (size_t pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos))
      text.replace(pos, secret.size(), "[redacted]");
  }
  static const std::regex keyish(R"((sk-ant-|sk-|AIza|xai-)[A-Za-z0-9_\-*]{8,})");
  return std::regex_replace(text, keyish, "[redacted]");
}

}  // namespace reckon
