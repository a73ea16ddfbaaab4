#include "tasks/datasets.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include <atomic>

#include <curl/curl.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <sstream>

#include "common/error.h"
#include "common/sha256.h"
#include "common/text.h"

namespace fs = std::filesystem;

namespace reckon {
namespace embedded {
extern const std::string_view dataset_registry;
}

int64_t Dataset::bytes() const {
  int64_t n = 0;
  for (const auto& f : files) n += f.bytes;
  return n;
}

std::vector<Dataset> parse_dataset_registry(const std::string& tsv, const std::string& where) {
  std::vector<Dataset> out;
  std::map<std::string, size_t> index;
  std::istringstream in(tsv);
  std::string line;
  size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (lineno == 1 || trim(line).empty()) continue;  // header
    auto f = split(line, '\t');
    std::string at = where + ":" + std::to_string(lineno);
    if (f.size() < 7) throw InputError(at + ": expected 8 tab-separated fields");
    DatasetFile df{f[0], f[1], f[2], f[3], f[4], f[5], f.size() > 7 ? f[7] : "", 0};
    auto bytes = parse_int(f[6]);
    if (!bytes || df.sha256.size() != 64) throw InputError(at + ": bad 'bytes' or 'sha256' field");
    df.bytes = *bytes;
    auto [it, fresh] = index.emplace(df.dataset, out.size());
    if (fresh) out.push_back({df.dataset, {}});
    out[it->second].files.push_back(df);
  }
  return out;
}

const std::vector<Dataset>& dataset_registry() {
  static const std::vector<Dataset> reg = parse_dataset_registry(std::string(embedded::dataset_registry), "datasets.tsv");
  return reg;
}

const Dataset* find_dataset(const std::string& name) {
  for (const auto& d : dataset_registry())
    if (d.name == name) return &d;
  return nullptr;
}

std::string default_cache_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/reckon";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/reckon";
  return ".reckon-cache";
}

std::string resolve_mirror(const std::string& mirror) {
  std::string m = mirror;
  if (m.empty())
    if (const char* env = std::getenv("RECKON_DATA_MIRROR"); env && *env) m = env;
  if (m.empty()) return "https://raw.githubusercontent.com";
  if (m.find("://") == std::string::npos) {  // a local folder
    if (!fs::is_directory(m)) throw InputError("data mirror '" + m + "' is not a folder");
    m = "file://" + fs::absolute(m).lexically_normal().string();
  }
  while (ends_with(m, "/")) m.pop_back();
  return m;
}

std::string cached_path(const DatasetFile& f, const std::string& cache_dir) {
  return (fs::path(cache_dir) / f.relative_path()).string();
}

namespace {

// Bytes go to the file until the registered size is passed: then the transfer stops (a file that is
// larger than registered cannot be the right one, so none of the rest is worth downloading).
struct Sink {
  FILE* out;
  int64_t limit, written = 0;
};

size_t write_to_sink(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  sink->written += static_cast<int64_t>(size * n);
  if (sink->written > sink->limit) return 0;
  return std::fwrite(data, size, n, sink->out) * size;
}

// Fetches url into path (at most max_bytes, within timeout_s); returns "" on success or what failed.
std::string fetch(const std::string& url, const std::string& path, int64_t max_bytes, double timeout_s) {
  FILE* out = std::fopen(path.c_str(), "wb");
  if (!out) return "cannot write " + path;
  Sink sink{out, max_bytes};
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_to_sink);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_s * 1000));
  curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max_bytes));  // when the server says its size
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "reckon/" RECKON_VERSION);
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_cleanup(curl);
  bool closed = std::fclose(out) == 0;
  if (rc == CURLE_FILESIZE_EXCEEDED || (rc == CURLE_WRITE_ERROR && sink.written > max_bytes))
    return "larger than its registered " + std::to_string(max_bytes) + " bytes; stopped";
  if (rc == CURLE_OPERATION_TIMEDOUT)
    return "timed out after " + std::to_string(static_cast<long>(timeout_s)) + " s (" + std::to_string(sink.written) + " bytes arrived)";
  if (rc != CURLE_OK) return curl_easy_strerror(rc);
  if (!closed) return "cannot write " + path;
  return "";
}

// A pull killed mid-download leaves its `.part.<pid>.<n>`: removed once that process is gone.
void remove_stale_parts(const std::string& dest) {
  const fs::path dir = fs::path(dest).parent_path();
  const std::string prefix = fs::path(dest).filename().string() + ".part.";
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const pid_t pid = static_cast<pid_t>(std::atol(name.c_str() + prefix.size()));
    if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) fs::remove(it->path(), ec);
  }
}

std::atomic<uint64_t>& pull_counter() {
  static std::atomic<uint64_t> n{0};
  return n;
}

}  // namespace

std::vector<std::string> pull_dataset(const Dataset& ds, const PullOptions& opts) {
  std::string base = resolve_mirror(opts.mirror);
  std::string cache = opts.cache_dir.empty() ? default_cache_dir() : opts.cache_dir;
  std::vector<std::string> paths;
  for (const auto& f : ds.files) {
    std::string dest = cached_path(f, cache);
    if (fs::exists(dest) && sha256_file_hex(dest) == f.sha256) {
      paths.push_back(dest);
      continue;
    }
    std::error_code ec;
    fs::create_directories(fs::path(dest).parent_path(), ec);
    if (ec) throw InputError("cannot create cache folder " + fs::path(dest).parent_path().string() + ": " + ec.message());
    std::string url = base + "/" + f.relative_path();
    // A temporary name of this process's own: several processes pulling at once each download, then the
    // atomic rename puts identical bytes in place (none reads a half-written file, none loses its .part).
    std::string tmp = dest + ".part." + std::to_string(::getpid()) + "." + std::to_string(++pull_counter());
    remove_stale_parts(dest);
    const double timeout = opts.timeout_s > 0 ? opts.timeout_s : 120.0 + static_cast<double>(f.bytes) / 100e3;
    const int64_t max_bytes = f.bytes > 0 ? f.bytes : std::numeric_limits<int64_t>::max();
    if (std::string err = fetch(url, tmp, max_bytes, timeout); !err.empty()) {
      fs::remove(tmp, ec);
      throw InputError("cannot download " + url + ": " + err);
    }
    std::string got = sha256_file_hex(tmp);
    if (got != f.sha256) {
      fs::remove(tmp, ec);
      throw InputError("checksum mismatch for " + url + ": expected sha256 " + f.sha256 + ", got " + got +
                       "; the file was not used or cached");
    }
    fs::rename(tmp, dest, ec);
    if (ec) {
      fs::remove(tmp);
      if (!(fs::exists(dest) && sha256_file_hex(dest) == f.sha256))  // another process's rename won: fine
        throw InputError("cannot move " + tmp + " into the cache: " + ec.message());
    }
    if (opts.progress) opts.progress("pulled " + f.relative_path() + " (" + std::to_string(f.bytes) + " bytes)");
    paths.push_back(dest);
  }
  return paths;
}

}  // namespace reckon
