// A real, loadable SQLite extension for the sandbox tests: loading it creates the file named by
// RECKON_PROBE_MARKER, so a test can prove both that it loads where extensions are allowed and that
// predicted SQL cannot load it.
#include <sqlite3ext.h>

#include <cstdio>
#include <cstdlib>

SQLITE_EXTENSION_INIT1

extern "C" int sqlite3_extension_init(sqlite3* db, char** err, const sqlite3_api_routines* api) {
  SQLITE_EXTENSION_INIT2(api);
  (void)db;
  (void)err;
  if (const char* marker = std::getenv("RECKON_PROBE_MARKER")) {
    if (std::FILE* f = std::fopen(marker, "w")) {
      std::fputs("loaded\n", f);
      std::fclose(f);
    }
  }
  return SQLITE_OK;
}
