/*
 * datapath.h: the eBPF datapath as the loader sees it: the pinned maps and programs of one
 * Palisade instance, and the few operations the TypeScript side needs on them. Pure C++ over
 * libbpf (no N-API here: addon/napi/ebpf.cc is the glue).
 *
 * What: `Datapath::open` either ADOPTS what an earlier agent pinned under `pinDir`
 *   (/sys/fs/bpf/palisade/<netns-tag>/: maps by name, programs as prog_<name>) or loads the BPF
 *   object, letting libbpf create (or reuse, when pinned) the maps, and pins the programs.
 *   Attachments are tc (clsact) filters made through netlink; they belong to the interface, not
 *   to this process, so an agent killed with -9 leaves enforcement in place.
 * Writes: the generation writers (`write*`) only touch one generation's slice of each map; the
 *   TypeScript side only ever writes the inactive generation during a full apply, then flips
 *   `activate`. Pod churn writes the active generation in dependency order (rows, then heads,
 *   then the address entry), so a packet sees either the old or the new class of an address.
 * Errors: every method returns 0 or a negative errno and fills `err` with a message naming the
 *   call, the errno, and, for EPERM/EACCES, the capability this process lacks.
 * Cost: map writes are batched (one bpf() call per table) where the kernel supports batching;
 *   the port table is written through mmap.
 * Thread-safety: a Datapath is used from one thread (the Node main thread). The maps themselves
 *   are safe for concurrent readers (packets) by construction (generations).
 */
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

extern "C" {
#include "../include/palisade_maps.h"
}

struct bpf_object;
struct ring_buffer;

namespace palisade::ebpf {

struct ProgInfo {
  uint32_t id = 0;
  uint32_t verifiedInsns = 0;
  uint32_t xlatedBytes = 0;
  uint32_t jitedBytes = 0;
};

struct TestRunResult {
  int retval = 0;
  uint32_t durationNs = 0;
};

struct HookState {
  uint32_t ingressProgId = 0;
  uint32_t egressProgId = 0;
};

/** One address class entry: a /32 or /128 goes to the exact hash, anything shorter to the LPM. */
struct AddrEntry {
  uint8_t family;     /* 4 or 6 */
  uint8_t prefixLen;  /* 0..32 or 0..128 */
  uint8_t addrNet[16];
  uint32_t classId;
  uint32_t expiredClassId; /* host entries: the class once expiresNs passed */
  uint64_t expiresNs;      /* host entries: CLOCK_MONOTONIC ns; 0 = never */
};

class Datapath {
 public:
  ~Datapath();
  Datapath(const Datapath &) = delete;
  Datapath &operator=(const Datapath &) = delete;

  /** Adopt the pinned instance at pinDir, or load objPath and pin it there. */
  static Datapath *open(const std::string &objPath, const std::string &pinDir, bool forceReload, int &rc, std::string &err);

  bool adopted() const { return adopted_; }
  const std::string &pinDir() const { return pinDir_; }

  int progFd(const std::string &name) const;
  int mapFd(const std::string &name) const;
  int progInfo(const std::string &name, ProgInfo &out, std::string &err) const;

  /** Attach both programs to an interface: role "pod" (host side of a pod veth) or "host". */
  int attach(const std::string &netnsPath, const std::string &ifname, const std::string &role, std::string &err);
  int detach(const std::string &netnsPath, const std::string &ifname, std::string &err);
  int query(const std::string &netnsPath, const std::string &ifname, HookState &out, std::string &err);

  // ---- generation writers ------------------------------------------------------------------
  int activeGeneration(uint32_t &gen, uint64_t &version, std::string &err) const;
  int activate(uint32_t gen, uint64_t version, std::string &err);
  /** Set config.flags (PAL_CFG_*) without changing the generation. */
  int setFlags(uint32_t flags, std::string &err);
  /** Delete every address entry of `gen` (exact and LPM). */
  int clearAddresses(uint32_t gen, std::string &err);
  int writeAddresses(uint32_t gen, const std::vector<AddrEntry> &entries, std::string &err);
  int deleteAddresses(uint32_t gen, const std::vector<AddrEntry> &entries, std::string &err);
  /** classes[PAL_PORT_TABLES * PAL_PORTS]: the whole port table of `gen` (destination, then source ports). */
  int writePortClasses(uint32_t gen, const uint32_t *classes, std::string &err);
  /** heads for classes [firstClass, firstClass + n) of (gen, dir, dim). */
  int writeRowHeads(uint32_t gen, uint32_t dir, uint32_t dim, uint32_t firstClass, uint32_t n, const uint64_t *masks,
                    const uint32_t *firstIndexes, std::string &err);
  /** row_index entries [firstIndex, firstIndex + n) (absolute): absolute rows. Through mmap. */
  int writeRowIndex(uint32_t firstIndex, uint32_t n, const uint32_t *rows, std::string &err);
  /** n chunks (8 words each) at rows [firstRow, firstRow + n) (absolute row indices). */
  int writeRows(uint32_t firstRow, uint32_t n, const uint64_t *words, std::string &err);
  int writeVerdicts(uint32_t gen, uint32_t dir, uint32_t n, const pal_verdict *verdicts, std::string &err);
  /** Redirect targets of egress rules at positions rules[i] of `gen` (entries of other rules are never read). */
  int writeRedirects(uint32_t gen, uint32_t n, const uint32_t *rules, const pal_redirect *targets, std::string &err);

  // ---- observation ---------------------------------------------------------------------------
  /** Sum over CPUs of the counters at the given slots. */
  int readCounters(const std::vector<uint32_t> &slots, std::vector<pal_counter> &out, std::string &err) const;
  int clearCounters(std::string &err);
  int readStats(std::vector<uint64_t> &out, std::string &err) const;
  int drainDenyEvents(std::vector<pal_deny_event> &out, size_t max, std::string &err);
  int flowCount(uint32_t &n, std::string &err) const;
  int clearFlows(std::string &err);

  int testRun(const std::string &prog, const uint8_t *pkt, uint32_t len, uint32_t repeat, TestRunResult &out,
              std::string &err) const;

  /** Load one program of a standalone object (the benchmark's pass-all); returns its fd. */
  static int loadStandalone(const std::string &objPath, const std::string &prog, std::string &err);
  static int testRunFd(int fd, const uint8_t *pkt, uint32_t len, uint32_t repeat, TestRunResult &out, std::string &err);

  /** Remove the pins (maps and programs) of this instance; attachments are the caller's job. */
  int unpin(std::string &err);

 private:
  Datapath() = default;
  int updateBatch(const std::string &map, const void *keys, const void *values, uint32_t n, uint32_t keySize,
                  uint32_t valueSize, std::string &err);

  bool adopted_ = false;
  std::string pinDir_;
  ::bpf_object *obj_ = nullptr;
  std::map<std::string, int> progs_;
  std::map<std::string, int> maps_;
  void *portMmap_ = nullptr;
  size_t portMmapLen_ = 0;
  void *indexMmap_ = nullptr;
  size_t indexMmapLen_ = 0;
  ::ring_buffer *ring_ = nullptr;
  std::vector<pal_deny_event> *ringSink_ = nullptr;
};

/** "missing CAP_BPF" style text for an EPERM/EACCES, from /proc/self/status CapEff. */
std::string describePermission(int errnum, bool netAdminNeeded);

}  // namespace palisade::ebpf
