#include "providers/http_call.h"

#include <curl/curl.h>

#include <random>

namespace reckon {
namespace {

struct Sink {
  std::string* out;
  size_t limit;
  bool over = false;
};

size_t write_body(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  if (sink->out->size() + size * n > sink->limit) {
    sink->over = true;
    return 0;
  }
  sink->out->append(data, size * n);
  return size * n;
}

}  // namespace

HttpReply http_call(const HttpRequest& req, double timeout_s, size_t max_bytes) {
  HttpReply reply;
  CURL* curl = curl_easy_init();
  if (!curl) {
    reply.error = "cannot start libcurl";
    return reply;
  }
  curl_slist* headers = nullptr;
  for (const auto& [k, v] : req.headers) headers = curl_slist_append(headers, (k + ": " + v).c_str());
  Sink sink{&reply.body, max_bytes};
  curl_easy_setopt(curl, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_s * 1000));
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "reckon/" RECKON_VERSION);
  if (req.method == "POST" || !req.body.empty()) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
  }
  if (req.method != "GET" && req.method != "POST") curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
  } else {
    reply.error = sink.over ? "answer larger than " + std::to_string(max_bytes) + " bytes" : curl_easy_strerror(rc);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return reply;
}

std::pair<std::string, std::string> multipart_body(const std::vector<std::pair<std::string, std::string>>& fields,
                                                   const std::string& file_field, const std::string& filename,
                                                   const std::string& content) {
  // A boundary that the content does not hold (checked, not hoped).
  std::mt19937_64 rng(std::random_device{}());
  std::string boundary;
  do boundary = "reckon-" + std::to_string(rng());
  while (content.find(boundary) != std::string::npos);
  std::string body;
  for (const auto& [name, value] : fields)
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n";
  body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + file_field + "\"; filename=\"" + filename +
          "\"\r\nContent-Type: application/jsonl\r\n\r\n";
  body += content;
  body += "\r\n--" + boundary + "--\r\n";
  return {std::move(body), "multipart/form-data; boundary=" + boundary};
}

}  // namespace reckon
