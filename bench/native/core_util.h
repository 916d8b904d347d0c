// core_util.h: what the Node-free ClassBench programs in bench/native share: thread CPU time and
// reading (possibly gzip) files line by line. Not part of the product.
#pragma once

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
