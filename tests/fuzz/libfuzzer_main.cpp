// One libFuzzer binary per target: RECKON_FUZZ_FN names the target function.
#include "tests/fuzz/targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) { return reckon::fuzz::RECKON_FUZZ_FN(data, size); }
