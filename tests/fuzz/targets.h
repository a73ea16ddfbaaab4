#pragma once
// Fuzz targets for every parser of outside input. Each returns 0 and must never crash, hang or
// leak: expected failures are InputError / BadResponse, anything else is a bug.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace reckon::fuzz {

int csv(const uint8_t* data, size_t size);           // CSV reader
int sse(const uint8_t* data, size_t size);           // SSE framing + every provider's stream decoder and body parser
int import_jsonl(const uint8_t* data, size_t size);  // `reckon import` of JSONL and CSV request logs
int catalog(const uint8_t* data, size_t size);       // reckon and LiteLLM price catalogs, then pricing
int campaign(const uint8_t* data, size_t size);      // campaign files and task specs
int extract(const uint8_t* data, size_t size);       // answer extractors and scorers on model output, scorer programs' replies
int matrix(const uint8_t* data, size_t size);        // response matrices (select eval) and routing outcomes files
int json(const uint8_t* data, size_t size);          // JSON from outside with its nesting limit, and UTF-8 repair
int batch(const uint8_t* data, size_t size);
int http1(const uint8_t* data, size_t size);         // HTTP/1.1 responses from plain-http servers (the native engine's reader)         // batch APIs' results: OpenAI files, Anthropic JSONL, Gemini output

struct Target {
  const char* name;
  int (*fn)(const uint8_t*, size_t);
};
const std::vector<Target>& targets();

}  // namespace reckon::fuzz
