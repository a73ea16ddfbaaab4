#include "common/atomic_file.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "common/error.h"

namespace reckon {

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  static std::atomic<unsigned> counter{0};
  temp_ = path_ + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(++counter);
  out_.open(temp_, std::ios::binary | std::ios::trunc);
  if (!out_) throw InputError(path_ + ": cannot write");
}

AtomicFile::~AtomicFile() {
  if (committed_) return;
  out_.close();
  std::remove(temp_.c_str());
}

void AtomicFile::commit() {
  out_.flush();
  const bool written = static_cast<bool>(out_);
  out_.close();
  if (!written || out_.fail()) throw InputError(path_ + ": could not write: disk full or an I/O error");
  if (std::rename(temp_.c_str(), path_.c_str()) != 0) throw InputError(path_ + ": cannot move the written file into place");
  committed_ = true;
}

void write_file_atomically(const std::string& path, const std::string& content) {
  AtomicFile f(path);
  f.out() << content;
  f.commit();
}

}  // namespace reckon
