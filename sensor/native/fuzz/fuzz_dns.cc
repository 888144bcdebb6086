// libFuzzer target: the DNS parser (l7/dns.cc) through its registry entry points
// (match/create/on_payload/finish). Input format: see l7_driver.h.
#include "l7_driver.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  dfly::fuzz_l7(dfly::kDnsParser, data, size, 53);
  return 0;
}
