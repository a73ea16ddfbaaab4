// `reckon data list|pull|path`.
#include <filesystem>
#include <iostream>

#include "common/error.h"
#include "common/table.h"
#include "harness/commands.h"
#include "tasks/datasets.h"

namespace reckon {
namespace {

const Dataset& require_dataset(const std::string& name) {
  const Dataset* d = find_dataset(name);
  if (!d) throw InputError("unknown dataset '" + name + "' (see `reckon data list`)");
  return *d;
}

}  // namespace

Action define_data(CLI::App& sub) {
  sub.require_subcommand(1);
  auto opts = std::make_shared<PullOptions>();
  auto names = std::make_shared<std::vector<std::string>>();
  auto subpath = std::make_shared<std::string>();

  auto* list = sub.add_subcommand("list", "List the datasets reckon can pull");
  auto* pull = sub.add_subcommand("pull", "Download datasets, verify SHA-256, cache them; prints local paths");
  pull->add_option("names", *names, "Dataset names")->required();
  pull->add_option("--mirror", opts->mirror, "Folder or URL laid out as owner/repo/commit/path (env RECKON_DATA_MIRROR)");
  pull->add_option("--cache", opts->cache_dir, "Cache folder (default $XDG_CACHE_HOME/reckon or ~/.cache/reckon)");
  pull->add_flag_callback("--quiet", [opts] { opts->progress = nullptr; }, "No progress lines");
  auto* path = sub.add_subcommand("path", "Print where a pulled dataset lives (optionally a path inside it)");
  path->add_option("name", *subpath, "Dataset name")->required();
  auto inner = std::make_shared<std::string>();
  path->add_option("inner", *inner, "A path inside the dataset's repository, e.g. data/consolidated");
  path->add_option("--cache", opts->cache_dir, "Cache folder");
  opts->progress = [](const std::string& line) { std::cerr << line << "\n"; };

  return [=]() -> int {
    if (list->parsed()) {
      TextTable t({"name", "files", "bytes", "source", "license"});
      for (const auto& d : dataset_registry()) {
        const auto& f = d.files.front();
        t.add({d.name, std::to_string(d.files.size()), std::to_string(d.bytes()),
               f.owner + "/" + f.repo + "@" + f.commit.substr(0, 8), f.license});
      }
      std::cout << t.render(1);
      return kExitOk;
    }
    if (pull->parsed()) {
      for (const auto& n : *names) {
        for (const auto& p : pull_dataset(require_dataset(n), *opts)) std::cout << p << "\n";
      }
      return kExitOk;
    }
    const Dataset& d = require_dataset(*subpath);
    const auto& f = d.files.front();
    std::string cache = opts->cache_dir.empty() ? default_cache_dir() : opts->cache_dir;
    std::filesystem::path root = std::filesystem::path(cache) / f.owner / f.repo / f.commit;
    std::cout << (inner->empty() ? root : root / *inner).string() << "\n";
    return kExitOk;
  };
}

}  // namespace reckon
