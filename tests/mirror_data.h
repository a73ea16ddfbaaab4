#pragma once
// Task loaders in tests read the shared mirror into a throwaway cache.
#include "tasks/task.h"
#include "tests/support.h"

namespace reckon::test {

inline DataAccess mirror_access(const TempDir& cache) {
  DataAccess d;
  d.pull.mirror = shared_data("mirror");
  d.pull.cache_dir = cache.path();
  return d;
}

}  // namespace reckon::test
