#pragma once
// Public datasets reckon pulls at run time: name -> files at a pinned GitHub commit, each with
// its SHA-256 (data/datasets.tsv, the same rows as the shared mirror's MANIFEST.tsv).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace reckon {

struct DatasetFile {
  std::string dataset, owner, repo, commit, path, sha256, license;
  int64_t bytes = 0;
  // owner/repo/commit/path: the layout of raw.githubusercontent.com, the cache and mirrors.
  std::string relative_path() const { return owner + "/" + repo + "/" + commit + "/" + path; }
};

struct Dataset {
  std::string name;
  std::vector<DatasetFile> files;
  int64_t bytes() const;
};

// The built-in registry, in file order.
const std::vector<Dataset>& dataset_registry();
const Dataset* find_dataset(const std::string& name);
// Parses registry text (TSV with header name owner repo commit path sha256 bytes license).
std::vector<Dataset> parse_dataset_registry(const std::string& tsv, const std::string& where);

struct PullOptions {
  std::string mirror;     // "" = RECKON_DATA_MIRROR or https://raw.githubusercontent.com; a folder or file:// URL
  std::string cache_dir;  // "" = $XDG_CACHE_HOME/reckon or ~/.cache/reckon
  std::function<void(const std::string&)> progress;  // one line per file, when set
  // A download may take at most this long per file, plus a second per 100 KB it should weigh (a mirror
  // that trickles cannot hold a pull forever); 0 = that default of 120 s plus size.
  double timeout_s = 0;
};

std::string default_cache_dir();
std::string resolve_mirror(const std::string& mirror);

// Downloads what is not cached yet, verifies every file's SHA-256 (a mismatch is an error and
// nothing is kept), and returns the local path of each file, in registry order.
std::vector<std::string> pull_dataset(const Dataset& ds, const PullOptions& opts);
// Local path of a dataset file in the cache (whether or not it is there yet).
std::string cached_path(const DatasetFile& f, const std::string& cache_dir);

}  // namespace reckon
