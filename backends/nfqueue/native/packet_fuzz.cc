// packet_fuzz.cc: libFuzzer entry for the packet parser. Built and run by test/nfqueue/parser.test.ts:
//   clang++ -std=c++17 -g -O1 -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined packet_fuzz.cc packet.cc -o packet_fuzz
//   ./packet_fuzz -runs=N -seed=S -max_len=512
// Checks that parsing never reads outside the input (AddressSanitizer) and that the result obeys the
// contract in packet.h (statuses, ports only with a port protocol, l4Offset inside the packet).
#include <cstdlib>

#include "packet.h"

using namespace palisade::nfq;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FlowKey key;
  const ParseResult r = parsePacket(data, size, key);
  const int s = static_cast<int>(r.status);
  if (s < 0 || s >= kParseStatusCount) abort();
  if (r.status == ParseStatus::Ok) {
    if (key.proto != kProtoTcp && key.proto != kProtoUdp && key.proto != kProtoSctp) abort();
    if (r.l4Offset >= size) abort();
  }
  if (r.status != ParseStatus::Ok && (key.srcPort != 0 || key.dstPort != 0)) abort();
  if ((r.status == ParseStatus::Ok || r.status == ParseStatus::Unported) && key.family != 4 && key.family != 6) abort();
  return 0;
}
