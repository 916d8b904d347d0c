// core_util.h: what the Node-free ClassBench programs in bench/native share: thread CPU time and
// reading (possibly gzip) files line by line, and parsing ClassBench rule and trace lines. Not part
// of the product.
#pragma once

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

// CPU time of this thread: the machine is shared, and wall time counts time spent descheduled.
inline double threadNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e9 + double(ts.tv_nsec);
}

// The lines of a file, gzip or plain (read through `zcat -f`; the path comes from the command line
// of a benchmark program, never from a user of the product).
inline std::vector<std::string> readLines(const char* path) {
  std::string cmd = std::string("zcat -f '") + path + "'";
  FILE* f = popen(cmd.c_str(), "r");
  std::vector<std::string> out;
  if (!f) return out;
  char buf[512];
  while (fgets(buf, sizeof buf, f)) out.emplace_back(buf);
  pclose(f);
  return out;
}

// One ClassBench rule line ("@a.b.c.d/l e.f.g.h/l sp0 : sp1 dp0 : dp1 proto/mask") into a rule type
// with src/dst (masked by mask4), srcLen/dstLen, sportLo/Hi, dportLo/Hi, proto/protoMask and rank
// (TupleIndex<Family4>::Input, SplitRule). False for a line that is not a rule.
template <class Rule, class Mask4>
bool parseClassBenchRule(const std::string& line, uint32_t rank, Mask4 mask4, Rule& r) {
  unsigned a, b, c, d, sl, e, f, g, h, dl, sp0, sp1, dp0, dp1, pr, pm;
  if (sscanf(line.c_str(), "@%u.%u.%u.%u/%u %u.%u.%u.%u/%u %u : %u %u : %u %x/%x", &a, &b, &c, &d, &sl,
             &e, &f, &g, &h, &dl, &sp0, &sp1, &dp0, &dp1, &pr, &pm) != 16)
    return false;
  r.src = (a << 24 | b << 16 | c << 8 | d) & mask4(sl);
  r.dst = (e << 24 | f << 16 | g << 8 | h) & mask4(dl);
  r.srcLen = uint8_t(sl);
  r.dstLen = uint8_t(dl);
  r.sportLo = uint16_t(sp0);
  r.sportHi = uint16_t(sp1);
  r.dportLo = uint16_t(dp0);
  r.dportHi = uint16_t(dp1);
  r.proto = uint8_t(pr & pm);
  r.protoMask = uint8_t(pm);
  r.rank = rank;
  return true;
}

// One ClassBench trace header ("src dst sport dport proto ..." as decimal numbers).
struct TraceHeader {
  uint32_t src, dst;
  uint16_t sport, dport;
  uint8_t proto;
};
inline bool parseTraceLine(const std::string& line, TraceHeader& h) {
  unsigned long s, d, sp, dp, pr;
  if (sscanf(line.c_str(), "%lu %lu %lu %lu %lu", &s, &d, &sp, &dp, &pr) != 5) return false;
  h = TraceHeader{uint32_t(s), uint32_t(d), uint16_t(sp), uint16_t(dp), uint8_t(pr)};
  return true;
}
