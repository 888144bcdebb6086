// libFuzzer target: the HTTP parser (l7/http.cc) through its registry entry points
// (match/create/on_payload/finish). Input format: see l7_driver.h.
#include "l7_driver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  dfly::fuzz_l7(dfly::kHttpParser, data, size, 80);
  return 0;
}
