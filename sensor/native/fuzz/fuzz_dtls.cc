// libFuzzer target: the DTLS parser (l7/dtls.cc) through its registry entry points. Input format:
// see l7_driver.h (UDP: flags bit0 clear; bit3 sends a copy the other way, as a server's answer).
#include "l7_driver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  dfly::fuzz_l7(dfly::kDtlsParser, data, size, 4444);
  return 0;
}
