#pragma once
// Files reckon writes where others may read or write them too (reports, exports, training sets, curves):
// written to a temporary name of this process's own beside the target, then renamed over it, so a
// reader never sees half a file and two processes writing the same path leave one whole file.
#include <fstream>
#include <string>

namespace reckon {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path);  // InputError when the folder cannot take the file
  ~AtomicFile();                          // not committed: the temporary file is removed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  std::ostream& out() { return out_; }
  // Flushes and renames into place; InputError naming the path on a full disk or an I/O error.
  void commit();

 private:
  std::string path_, temp_;
  std::ofstream out_;
  bool committed_ = false;
};

void write_file_atomically(const std::string& path, const std::string& content);

}  // namespace reckon
