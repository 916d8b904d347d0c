/*
 * datapath.cc: Datapath over libbpf (see datapath.h for the contract).
 */
#include "datapath.h"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

extern "C" {
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
}

#include "kernel/netns_scope.h"

namespace palisade::ebpf {

namespace {

const char *const kProgs[] = {"pal_egress", "pal_ingress"};
const char *const kMaps[] = {"pal_config",   "pal_addr_exact", "pal_addr_exact4",    "pal_addr_lpm4", "pal_addr_lpm6",
                             "pal_port_class", "pal_row_head",    "pal_row_index", "pal_rows", "pal_verdicts",
                             "pal_rule_counters", "pal_flows", "pal_flows4", "pal_frags",     "pal_stats",
                             "pal_deny_events", "pal_flow_hints4", "pal_flow_hints6", "pal_redirects", "pal_nat4", "pal_nat6"};

// libbpf's messages (verifier log included) for the error text of the current call
thread_local std::string g_libbpfLog;

int libbpfPrint(enum libbpf_print_level level, const char *fmt, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char buf[4096];
  int n = vsnprintf(buf, sizeof(buf), fmt, args);
  if (n > 0) {
    g_libbpfLog.append(buf, std::min<size_t>(n, sizeof(buf) - 1));
    if (g_libbpfLog.size() > 64 * 1024) g_libbpfLog.erase(0, g_libbpfLog.size() - 64 * 1024);
  }
  return 0;
}

bool hasCap(int cap) {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("CapEff:", 0) == 0) {
      unsigned long long v = std::stoull(line.substr(7), nullptr, 16);
      return (v >> cap) & 1ULL;
    }
  }
  return false;
}

int fail(std::string &err, int rc, const std::string &what, bool netAdmin = false) {
  int e = rc < 0 ? -rc : rc;
  if (e == 0) e = errno ? errno : EINVAL;
  std::ostringstream o;
  o << what << ": " << strerror(e) << " (errno " << e << ")";
  if (e == EPERM || e == EACCES) o << "; " << describePermission(e, netAdmin);
  err = o.str();
  return -e;
}

bool exists(const std::string &p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

int mkdirs(const std::string &path) {
  std::string cur;
  std::stringstream ss(path);
  std::string part;
  while (std::getline(ss, part, '/')) {
    if (part.empty()) continue;
    cur += "/" + part;
    if (::mkdir(cur.c_str(), 0700) != 0 && errno != EEXIST) return -errno;
  }
  return 0;
}

// Enters netnsPath for the life of the guard (addon/kernel/netns_scope.h: "" stays, already-there
// needs no CAP_SYS_ADMIN, a failed switch back aborts); rc() and `err` say why entering failed.
class NetnsGuard {
 public:
  NetnsGuard(const std::string &path, std::string &err) : scope_(path) {
    if (scope_.ok()) return;
    if (scope_.step() == kernel::NetnsScope::Step::Open) {
      rc_ = fail(err, -scope_.err(), "open netns " + path);
      return;
    }
    rc_ = fail(err, -scope_.err(), "setns " + path);
    if (scope_.err() == EPERM)
      err += "; entering another network namespace needs CAP_SYS_ADMIN: run the agent inside it (nsenter --net=PATH) instead of --netns";
  }
  bool ok() const { return scope_.ok(); }
  int rc() const { return rc_; }

 private:
  kernel::NetnsScope scope_;
  int rc_ = 0;
};

int ifindexOf(const std::string &ifname, std::string &err) {
  unsigned idx = if_nametoindex(ifname.c_str());
  if (idx == 0) return fail(err, -errno, "if_nametoindex " + ifname);
  return static_cast<int>(idx);
}

// The PAL_LAYOUT_SIG an object was compiled with (its .rodata `pal_layout_sig`), or 0.
uint32_t objectLayoutSig(struct bpf_object *obj) {
  struct btf *btf = bpf_object__btf(obj);
  struct bpf_map *rodata = nullptr;
  struct bpf_map *m;
  bpf_object__for_each_map(m, obj) {
    const char *n = bpf_map__name(m);
    if (bpf_map__is_internal(m) && n && strstr(n, ".rodata")) rodata = m;
  }
  if (!btf || !rodata) return 0;
  int id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
  if (id < 0) return 0;
  const struct btf_type *sec = btf__type_by_id(btf, id);
  const struct btf_var_secinfo *vs = btf_var_secinfos(sec);
  size_t size = 0;
  const void *data = bpf_map__initial_value(rodata, &size);
  for (int i = 0; i < btf_vlen(sec); i++, vs++) {
    const struct btf_type *var = btf__type_by_id(btf, vs->type);
    const char *name = btf__name_by_offset(btf, var->name_off);
    if (name && strcmp(name, "pal_layout_sig") == 0 && data && vs->offset + 4 <= size) {
      uint32_t v;
      memcpy(&v, static_cast<const uint8_t *>(data) + vs->offset, 4);
      return v;
    }
  }
  return 0;
}

// The layout signature recorded in a pinned pal_config, or 0 when there is none.
uint32_t pinnedLayoutSig(const std::string &pinDir) {
  int fd = bpf_obj_get((pinDir + "/pal_config").c_str());
  if (fd < 0) return 0;
  uint32_t zero = 0;
  pal_config cfg;
  memset(&cfg, 0, sizeof(cfg));
  int rc = bpf_map_lookup_elem(fd, &zero, &cfg);
  ::close(fd);
  return rc == 0 ? cfg.layoutSig : 0;
}

constexpr uint32_t kTcHandle = 0x50a1;  // "PAL"-ish; handle and priority identify our filters
constexpr uint32_t kTcPriority = 1;

}  // namespace

std::string describePermission(int errnum, bool netAdminNeeded) {
  (void)errnum;
  const bool sysAdmin = hasCap(21);
  const bool bpf = hasCap(39) || sysAdmin;
  const bool netAdmin = hasCap(12);
  std::string missing;
  if (!bpf) missing += "CAP_BPF";
  if (netAdminNeeded && !netAdmin) missing += std::string(missing.empty() ? "" : " and ") + "CAP_NET_ADMIN";
  if (!missing.empty()) return "this process lacks " + missing + " (Palisade's eBPF backend needs CAP_BPF and CAP_NET_ADMIN)";
  return "CAP_BPF and CAP_NET_ADMIN are present; check write access to /sys/fs/bpf (a bpffs mount) and any LSM policy";
}

Datapath::~Datapath() {
  if (ring_) ring_buffer__free(ring_);
  if (portMmap_) munmap(portMmap_, portMmapLen_);
  if (indexMmap_) munmap(indexMmap_, indexMmapLen_);
  if (obj_) {
    bpf_object__close(obj_);  // closes the fds it owns (maps and programs stay pinned)
  } else {
    for (auto &p : progs_) ::close(p.second);
    for (auto &m : maps_) ::close(m.second);
  }
}

Datapath *Datapath::open(const std::string &objPath, const std::string &pinDir, bool forceReload, int &rcOut,
                         std::string &err) {
  libbpf_set_print(libbpfPrint);
  g_libbpfLog.clear();
  std::unique_ptr<Datapath> dp(new Datapath());
  dp->pinDir_ = pinDir;
  int rc = mkdirs(pinDir);
  if (rc < 0) {
    rcOut = fail(err, rc, "mkdir " + pinDir);
    return nullptr;
  }
  struct statfs sfs;
  if (::statfs(pinDir.c_str(), &sfs) != 0 || sfs.f_type != 0xcafe4a11 /* BPF_FS_MAGIC */) {
    rcOut = fail(err, -ENOTSUP, pinDir + " is not on a bpffs mount (mount -t bpf bpf /sys/fs/bpf)");
    return nullptr;
  }

  bool allPinned = true;
  for (auto *p : kProgs) allPinned = allPinned && exists(pinDir + "/prog_" + p);
  for (auto *m : kMaps) allPinned = allPinned && exists(pinDir + "/" + m);
  // pins made by a loader of another layout cannot be adopted nor reused: start afresh (the
  // programs stay attached until the new ones replace them; flows and counters are lost)
  if (exists(pinDir + "/pal_config") && pinnedLayoutSig(pinDir) != PAL_LAYOUT_SIG) {
    for (auto *p : kProgs) ::unlink((pinDir + "/prog_" + p).c_str());
    for (auto *m : kMaps) ::unlink((pinDir + "/" + m).c_str());
    allPinned = false;
  }

  if (allPinned && !forceReload) {
    // adopt: everything is already there (an earlier agent, maybe killed -9)
    for (auto *p : kProgs) {
      int fd = bpf_obj_get((pinDir + "/prog_" + p).c_str());
      if (fd < 0) {
        rcOut = fail(err, fd, std::string("bpf_obj_get prog_") + p);
        return nullptr;
      }
      dp->progs_[p] = fd;
    }
    for (auto *m : kMaps) {
      int fd = bpf_obj_get((pinDir + "/" + m).c_str());
      if (fd < 0) {
        rcOut = fail(err, fd, std::string("bpf_obj_get ") + m);
        return nullptr;
      }
      dp->maps_[m] = fd;
    }
    dp->adopted_ = true;
  } else {
    LIBBPF_OPTS(bpf_object_open_opts, oopts, .pin_root_path = pinDir.c_str());
    struct bpf_object *obj = bpf_object__open_file(objPath.c_str(), &oopts);
    if (!obj) {
      rcOut = fail(err, -errno, "bpf_object__open_file " + objPath);
      return nullptr;
    }
    dp->obj_ = obj;
    const uint32_t sig = objectLayoutSig(obj);
    if (sig != PAL_LAYOUT_SIG) {
      rcOut = fail(err, -EINVAL, objPath + " was built from a different palisade_maps.h than this loader (layout " +
                                     std::to_string(sig) + ", loader " + std::to_string(PAL_LAYOUT_SIG) +
                                     "); rebuild both (npm run build:native)");
      return nullptr;
    }
    rc = bpf_object__load(obj);
    if (rc < 0) {
      rcOut = fail(err, rc, "bpf_object__load " + objPath, true);
      if (!g_libbpfLog.empty()) err += "\nlibbpf: " + g_libbpfLog.substr(g_libbpfLog.size() > 4000 ? g_libbpfLog.size() - 4000 : 0);
      return nullptr;
    }
    for (auto *p : kProgs) {
      struct bpf_program *prog = bpf_object__find_program_by_name(obj, p);
      if (!prog) {
        rcOut = fail(err, -ENOENT, std::string("program ") + p + " not in " + objPath);
        return nullptr;
      }
      std::string pin = pinDir + "/prog_" + p;
      if (exists(pin)) ::unlink(pin.c_str());  // a reload replaces the pinned program
      rc = bpf_program__pin(prog, pin.c_str());
      if (rc < 0) {
        rcOut = fail(err, rc, "bpf_program__pin " + pin);
        return nullptr;
      }
      dp->progs_[p] = bpf_program__fd(prog);
    }
    for (auto *m : kMaps) {
      struct bpf_map *map = bpf_object__find_map_by_name(obj, m);
      if (!map) {
        rcOut = fail(err, -ENOENT, std::string("map ") + m + " not in " + objPath);
        return nullptr;
      }
      dp->maps_[m] = bpf_map__fd(map);
    }
  }

  {
    // a map created by this load records the layout it was made for
    uint32_t zero = 0;
    pal_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    rc = bpf_map_lookup_elem(dp->mapFd("pal_config"), &zero, &cfg);
    if (rc == 0 && cfg.layoutSig != PAL_LAYOUT_SIG) {
      cfg.layoutSig = PAL_LAYOUT_SIG;
      rc = bpf_map_update_elem(dp->mapFd("pal_config"), &zero, &cfg, BPF_ANY);
    }
    if (rc < 0) {
      rcOut = fail(err, rc, "pal_config");
      return nullptr;
    }
  }

  // the port table is written through mmap
  // array elements are 8-byte strided in memory (elem_size = round_up(value_size, 8))
  const size_t portLen = size_t(PAL_GENERATIONS) * PAL_PORT_TABLES * PAL_PORTS * sizeof(uint64_t);
  void *mm = mmap(nullptr, portLen, PROT_READ | PROT_WRITE, MAP_SHARED, dp->mapFd("pal_port_class"), 0);
  if (mm == MAP_FAILED) {
    rcOut = fail(err, -errno, "mmap pal_port_class");
    return nullptr;
  }
  dp->portMmap_ = mm;
  dp->portMmapLen_ = portLen;
  const size_t indexLen = size_t(PAL_GENERATIONS) * PAL_INDEX_PER_GEN * sizeof(uint64_t);
  mm = mmap(nullptr, indexLen, PROT_READ | PROT_WRITE, MAP_SHARED, dp->mapFd("pal_row_index"), 0);
  if (mm == MAP_FAILED) {
    rcOut = fail(err, -errno, "mmap pal_row_index");
    return nullptr;
  }
  dp->indexMmap_ = mm;
  dp->indexMmapLen_ = indexLen;
  return dp.release();
}

int Datapath::progFd(const std::string &name) const {
  auto it = progs_.find(name);
  return it == progs_.end() ? -1 : it->second;
}

int Datapath::mapFd(const std::string &name) const {
  auto it = maps_.find(name);
  return it == maps_.end() ? -1 : it->second;
}

int Datapath::progInfo(const std::string &name, ProgInfo &out, std::string &err) const {
  int fd = progFd(name);
  if (fd < 0) return fail(err, -ENOENT, "no program " + name);
  struct bpf_prog_info info;
  memset(&info, 0, sizeof(info));
  __u32 len = sizeof(info);
  int rc = bpf_obj_get_info_by_fd(fd, &info, &len);
  if (rc < 0) return fail(err, rc, "bpf_obj_get_info_by_fd " + name);
  out.id = info.id;
  out.verifiedInsns = info.verified_insns;
  out.xlatedBytes = info.xlated_prog_len;
  out.jitedBytes = info.jited_prog_len;
  return 0;
}

int Datapath::attach(const std::string &netnsPath, const std::string &ifname, const std::string &role,
                     std::string &err) {
  NetnsGuard ns(netnsPath, err);
  if (!ns.ok()) return ns.rc();
  int ifindex = ifindexOf(ifname, err);
  if (ifindex < 0) return ifindex;
  // pod veth (host side): tc ingress carries what the pod sends = the pod's egress
  const bool pod = role == "pod";
  struct {
    enum bpf_tc_attach_point point;
    const char *prog;
  } hooks[2] = {{BPF_TC_INGRESS, pod ? "pal_egress" : "pal_ingress"},
                {BPF_TC_EGRESS, pod ? "pal_ingress" : "pal_egress"}};
  LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
  int rc = bpf_tc_hook_create(&hook);  // creates clsact; EEXIST when there already
  if (rc < 0 && rc != -EEXIST) return fail(err, rc, "bpf_tc_hook_create clsact on " + ifname, true);
  for (auto &h : hooks) {
    LIBBPF_OPTS(bpf_tc_hook, th, .ifindex = ifindex, .attach_point = h.point);
    LIBBPF_OPTS(bpf_tc_opts, to, .prog_fd = progFd(h.prog), .flags = BPF_TC_F_REPLACE, .handle = kTcHandle,
                .priority = kTcPriority);
    rc = bpf_tc_attach(&th, &to);
    if (rc < 0) return fail(err, rc, std::string("bpf_tc_attach ") + h.prog + " on " + ifname, true);
  }
  return 0;
}

int Datapath::detach(const std::string &netnsPath, const std::string &ifname, std::string &err) {
  NetnsGuard ns(netnsPath, err);
  if (!ns.ok()) return ns.rc();
  int ifindex = ifindexOf(ifname, err);
  if (ifindex < 0) return ifindex;
  for (auto point : {BPF_TC_INGRESS, BPF_TC_EGRESS}) {
    LIBBPF_OPTS(bpf_tc_hook, th, .ifindex = ifindex, .attach_point = point);
    LIBBPF_OPTS(bpf_tc_opts, to, .handle = kTcHandle, .priority = kTcPriority);
    int rc = bpf_tc_detach(&th, &to);
    if (rc < 0 && rc != -ENOENT) return fail(err, rc, "bpf_tc_detach on " + ifname, true);
  }
  return 0;
}

int Datapath::query(const std::string &netnsPath, const std::string &ifname, HookState &out, std::string &err) {
  NetnsGuard ns(netnsPath, err);
  if (!ns.ok()) return ns.rc();
  int ifindex = ifindexOf(ifname, err);
  if (ifindex < 0) return ifindex;
  for (auto point : {BPF_TC_INGRESS, BPF_TC_EGRESS}) {
    LIBBPF_OPTS(bpf_tc_hook, th, .ifindex = ifindex, .attach_point = point);
    LIBBPF_OPTS(bpf_tc_opts, to, .handle = kTcHandle, .priority = kTcPriority);
    int rc = bpf_tc_query(&th, &to);
    uint32_t id = rc == 0 ? to.prog_id : 0;
    if (rc < 0 && rc != -ENOENT && rc != -EINVAL) return fail(err, rc, "bpf_tc_query on " + ifname, true);
    (point == BPF_TC_INGRESS ? out.ingressProgId : out.egressProgId) = id;
  }
  return 0;
}

// ---- generation writers ----------------------------------------------------------------------

int Datapath::activeGeneration(uint32_t &gen, uint64_t &version, std::string &err) const {
  uint32_t zero = 0;
  pal_config cfg;
  int rc = bpf_map_lookup_elem(mapFd("pal_config"), &zero, &cfg);
  if (rc < 0) return fail(err, rc, "lookup pal_config");
  gen = cfg.activeGen & 1;
  version = cfg.version;
  return 0;
}

int Datapath::activate(uint32_t gen, uint64_t version, std::string &err) {
  uint32_t zero = 0;
  pal_config cfg;
  int rc = bpf_map_lookup_elem(mapFd("pal_config"), &zero, &cfg);
  if (rc < 0) return fail(err, rc, "lookup pal_config");
  cfg.activeGen = gen & 1;
  cfg.version = version;
  rc = bpf_map_update_elem(mapFd("pal_config"), &zero, &cfg, BPF_ANY);
  return rc < 0 ? fail(err, rc, "update pal_config") : 0;
}

int Datapath::setFlags(uint32_t flags, std::string &err) {
  uint32_t zero = 0;
  pal_config cfg;
  int rc = bpf_map_lookup_elem(mapFd("pal_config"), &zero, &cfg);
  if (rc < 0) return fail(err, rc, "lookup pal_config");
  cfg.flags = flags;
  rc = bpf_map_update_elem(mapFd("pal_config"), &zero, &cfg, BPF_ANY);
  return rc < 0 ? fail(err, rc, "update pal_config") : 0;
}

template <typename K>
static int deleteGenKeys(int fd, uint32_t gen, size_t genOffset, std::string &err, const char *name) {
  std::vector<K> keys;
  K cur, next;
  bool first = true;
  while (true) {
    int rc = bpf_map_get_next_key(fd, first ? nullptr : &cur, &next);
    if (rc < 0) {
      if (rc == -ENOENT) break;
      return fail(err, rc, std::string("get_next_key ") + name);
    }
    first = false;
    cur = next;
    if (reinterpret_cast<const uint8_t *>(&next)[genOffset] == gen) keys.push_back(next);
  }
  for (auto &k : keys) {
    int rc = bpf_map_delete_elem(fd, &k);
    if (rc < 0 && rc != -ENOENT) return fail(err, rc, std::string("delete ") + name);
  }
  return 0;
}

int Datapath::clearAddresses(uint32_t gen, std::string &err) {
  int rc = deleteGenKeys<pal_addr_key>(mapFd("pal_addr_exact"), gen, offsetof(pal_addr_key, gen), err, "pal_addr_exact");
  if (rc < 0) return rc;
  rc = deleteGenKeys<pal_addr4_key>(mapFd("pal_addr_exact4"), gen, offsetof(pal_addr4_key, gen), err, "pal_addr_exact4");
  if (rc < 0) return rc;
  rc = deleteGenKeys<pal_lpm4_key>(mapFd("pal_addr_lpm4"), gen, offsetof(pal_lpm4_key, gen), err, "pal_addr_lpm4");
  if (rc < 0) return rc;
  return deleteGenKeys<pal_lpm6_key>(mapFd("pal_addr_lpm6"), gen, offsetof(pal_lpm6_key, gen), err, "pal_addr_lpm6");
}

int Datapath::updateBatch(const std::string &map, const void *keys, const void *values, uint32_t n,
                          uint32_t keySize, uint32_t valueSize, std::string &err) {
  if (n == 0) return 0;
  int fd = mapFd(map);
  uint32_t count = n;
  LIBBPF_OPTS(bpf_map_batch_opts, bo, .elem_flags = BPF_ANY);
  int rc = bpf_map_update_batch(fd, keys, values, &count, &bo);
  if (rc == 0 && count == n) return 0;
  if (rc < 0 && rc != -EINVAL && rc != -ENOTSUP && rc != -EOPNOTSUPP && rc != -524 /* ENOTSUPP */)
    return fail(err, rc, "bpf_map_update_batch " + map);
  // not batchable (LPM) or partly done: element by element from where it stopped
  uint32_t from = rc == 0 ? count : 0;
  for (uint32_t i = from; i < n; i++) {
    rc = bpf_map_update_elem(fd, static_cast<const uint8_t *>(keys) + size_t(i) * keySize,
                             static_cast<const uint8_t *>(values) + size_t(i) * valueSize, BPF_ANY);
    if (rc < 0) return fail(err, rc, "bpf_map_update_elem " + map);
  }
  return 0;
}

int Datapath::writeAddresses(uint32_t gen, const std::vector<AddrEntry> &entries, std::string &err) {
  std::vector<pal_addr_key> ek;
  std::vector<pal_host_class> ev;
  std::vector<pal_addr4_key> e4k;
  std::vector<pal_host_class> e4v;
  std::vector<pal_lpm4_key> k4;
  std::vector<pal_addr_class> v4;
  std::vector<pal_lpm6_key> k6;
  std::vector<pal_addr_class> v6;
  for (const auto &e : entries) {
    const uint32_t full = e.family == 4 ? 32 : 128;
    if (e.prefixLen > full) return fail(err, -EINVAL, "prefix length out of range");
    pal_addr_class v{e.classId};
    pal_host_class hv{e.classId, e.expiredClassId, e.expiresNs};
    if (e.prefixLen == full && e.family == 4) {
      pal_addr4_key k;
      memset(&k, 0, sizeof(k));
      k.gen = uint8_t(gen);
      memcpy(&k.addrNet, e.addrNet, 4);
      e4k.push_back(k);
      e4v.push_back(hv);
    } else if (e.prefixLen == full) {
      pal_addr_key k;
      memset(&k, 0, sizeof(k));
      k.gen = uint8_t(gen);
      k.family = e.family;
      memcpy(k.addrNet, e.addrNet, e.family == 4 ? 4 : 16);
      ek.push_back(k);
      ev.push_back(hv);
    } else if (e.family == 4) {
      pal_lpm4_key k;
      memset(&k, 0, sizeof(k));
      k.prefixLen = 8 + e.prefixLen;
      k.gen = uint8_t(gen);
      memcpy(k.addrNet, e.addrNet, 4);
      k4.push_back(k);
      v4.push_back(v);
    } else {
      pal_lpm6_key k;
      memset(&k, 0, sizeof(k));
      k.prefixLen = 8 + e.prefixLen;
      k.gen = uint8_t(gen);
      memcpy(k.addrNet, e.addrNet, 16);
      k6.push_back(k);
      v6.push_back(v);
    }
  }
  int rc = updateBatch("pal_addr_lpm4", k4.data(), v4.data(), k4.size(), sizeof(pal_lpm4_key), sizeof(pal_addr_class), err);
  if (rc < 0) return rc;
  rc = updateBatch("pal_addr_lpm6", k6.data(), v6.data(), k6.size(), sizeof(pal_lpm6_key), sizeof(pal_addr_class), err);
  if (rc < 0) return rc;
  // exact entries last: during pod churn they are what makes a new class reachable
  rc = updateBatch("pal_addr_exact4", e4k.data(), e4v.data(), e4k.size(), sizeof(pal_addr4_key), sizeof(pal_host_class), err);
  if (rc < 0) return rc;
  return updateBatch("pal_addr_exact", ek.data(), ev.data(), ek.size(), sizeof(pal_addr_key), sizeof(pal_host_class), err);
}

int Datapath::deleteAddresses(uint32_t gen, const std::vector<AddrEntry> &entries, std::string &err) {
  for (const auto &e : entries) {
    const uint32_t full = e.family == 4 ? 32 : 128;
    int rc;
    if (e.prefixLen == full && e.family == 4) {
      pal_addr4_key k;
      memset(&k, 0, sizeof(k));
      k.gen = uint8_t(gen);
      memcpy(&k.addrNet, e.addrNet, 4);
      rc = bpf_map_delete_elem(mapFd("pal_addr_exact4"), &k);
    } else if (e.prefixLen == full) {
      pal_addr_key k;
      memset(&k, 0, sizeof(k));
      k.gen = uint8_t(gen);
      k.family = e.family;
      memcpy(k.addrNet, e.addrNet, e.family == 4 ? 4 : 16);
      rc = bpf_map_delete_elem(mapFd("pal_addr_exact"), &k);
    } else if (e.family == 4) {
      pal_lpm4_key k;
      memset(&k, 0, sizeof(k));
      k.prefixLen = 8 + e.prefixLen;
      k.gen = uint8_t(gen);
      memcpy(k.addrNet, e.addrNet, 4);
      rc = bpf_map_delete_elem(mapFd("pal_addr_lpm4"), &k);
    } else {
      pal_lpm6_key k;
      memset(&k, 0, sizeof(k));
      k.prefixLen = 8 + e.prefixLen;
      k.gen = uint8_t(gen);
      memcpy(k.addrNet, e.addrNet, 16);
      rc = bpf_map_delete_elem(mapFd("pal_addr_lpm6"), &k);
    }
    if (rc < 0 && rc != -ENOENT) return fail(err, rc, "delete address entry");
  }
  return 0;
}

int Datapath::writePortClasses(uint32_t gen, const uint32_t *classes, std::string &err) {
  if (gen >= PAL_GENERATIONS) return fail(err, -EINVAL, "generation out of range");
  const size_t per = size_t(PAL_PORT_TABLES) * PAL_PORTS;
  // 8-byte stride: the u32 value sits in the low half of each 8-byte element (little-endian)
  uint64_t *dst = static_cast<uint64_t *>(portMmap_) + gen * per;
  for (size_t i = 0; i < per; i++) dst[i] = classes[i];
  __sync_synchronize();
  return 0;
}

int Datapath::writeRowHeads(uint32_t gen, uint32_t dir, uint32_t dim, uint32_t firstClass, uint32_t n,
                            const uint64_t *masks, const uint32_t *firstIndexes, std::string &err) {
  if (gen >= PAL_GENERATIONS || dir >= PAL_DIRS || dim >= PAL_DIMS || uint64_t(firstClass) + n > PAL_MAX_CLASSES)
    return fail(err, -E2BIG, "row heads out of range (at most " + std::to_string(PAL_MAX_CLASSES) + " classes)");
  std::vector<uint32_t> keys(n);
  std::vector<pal_row_head> vals(n);
  const uint32_t base = ((gen * PAL_DIRS + dir) * PAL_DIMS + dim) * PAL_MAX_CLASSES + firstClass;
  for (uint32_t i = 0; i < n; i++) {
    keys[i] = base + i;
    vals[i].chunkMask = masks[i];
    vals[i].firstIndex = firstIndexes[i];
    vals[i].pad = 0;
  }
  return updateBatch("pal_row_head", keys.data(), vals.data(), n, sizeof(uint32_t), sizeof(pal_row_head), err);
}

int Datapath::writeRowIndex(uint32_t firstIndex, uint32_t n, const uint32_t *rows, std::string &err) {
  if (uint64_t(firstIndex) + n > uint64_t(PAL_GENERATIONS) * PAL_INDEX_PER_GEN)
    return fail(err, -E2BIG, "rule bitmap references exceed the map (" + std::to_string(PAL_INDEX_PER_GEN) + " per generation)");
  uint64_t *dst = static_cast<uint64_t *>(indexMmap_) + firstIndex;
  for (uint32_t i = 0; i < n; i++) dst[i] = rows[i];
  __sync_synchronize();
  return 0;
}

int Datapath::writeRows(uint32_t firstRow, uint32_t n, const uint64_t *words, std::string &err) {
  if (uint64_t(firstRow) + n > uint64_t(PAL_GENERATIONS) * PAL_ROWS_PER_GEN)
    return fail(err, -E2BIG, "rule bitmap rows exceed the map (" + std::to_string(PAL_ROWS_PER_GEN) + " per generation)");
  std::vector<uint32_t> keys(n);
  for (uint32_t i = 0; i < n; i++) keys[i] = firstRow + i;
  return updateBatch("pal_rows", keys.data(), words, n, sizeof(uint32_t), sizeof(pal_chunk), err);
}

int Datapath::writeVerdicts(uint32_t gen, uint32_t dir, uint32_t n, const pal_verdict *verdicts, std::string &err) {
  if (gen >= PAL_GENERATIONS || dir >= PAL_DIRS || n > PAL_MAX_RULES)
    return fail(err, -E2BIG, "at most " + std::to_string(PAL_MAX_RULES) + " rules per direction");
  std::vector<uint32_t> keys(n);
  for (uint32_t i = 0; i < n; i++) keys[i] = (gen * PAL_DIRS + dir) * PAL_MAX_RULES + i;
  return updateBatch("pal_verdicts", keys.data(), verdicts, n, sizeof(uint32_t), sizeof(pal_verdict), err);
}

int Datapath::writeRedirects(uint32_t gen, uint32_t n, const uint32_t *rules, const pal_redirect *targets, std::string &err) {
  if (gen >= PAL_GENERATIONS) return fail(err, -EINVAL, "no generation " + std::to_string(gen));
  std::vector<uint32_t> keys(n);
  for (uint32_t i = 0; i < n; i++) {
    if (rules[i] >= PAL_MAX_RULES) return fail(err, -E2BIG, "a Redirect rule beyond " + std::to_string(PAL_MAX_RULES));
    keys[i] = gen * PAL_MAX_RULES + rules[i];
  }
  if (n == 0) return 0;
  return updateBatch("pal_redirects", keys.data(), targets, n, sizeof(uint32_t), sizeof(pal_redirect), err);
}

// ---- observation -------------------------------------------------------------------------------

int Datapath::readCounters(const std::vector<uint32_t> &slots, std::vector<pal_counter> &out, std::string &err) const {
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return fail(err, ncpu, "libbpf_num_possible_cpus");
  std::vector<pal_counter> per(ncpu);
  out.assign(slots.size(), pal_counter{0, 0});
  for (size_t i = 0; i < slots.size(); i++) {
    uint32_t k = slots[i];
    int rc = bpf_map_lookup_elem(mapFd("pal_rule_counters"), &k, per.data());
    if (rc < 0) return fail(err, rc, "lookup pal_rule_counters");
    for (auto &c : per) {
      out[i].packets += c.packets;
      out[i].bytes += c.bytes;
    }
  }
  return 0;
}

int Datapath::clearCounters(std::string &err) {
  int ncpu = libbpf_num_possible_cpus();
  std::vector<pal_counter> zero(ncpu, pal_counter{0, 0});
  for (uint32_t k = 0; k < PAL_MAX_COUNTERS; k++) {
    int rc = bpf_map_update_elem(mapFd("pal_rule_counters"), &k, zero.data(), BPF_ANY);
    if (rc < 0) return fail(err, rc, "clear pal_rule_counters");
  }
  return 0;
}

int Datapath::readStats(std::vector<uint64_t> &out, std::string &err) const {
  int ncpu = libbpf_num_possible_cpus();
  std::vector<uint64_t> per(ncpu);
  out.assign(PAL_STATS, 0);
  for (uint32_t k = 0; k < PAL_STATS; k++) {
    int rc = bpf_map_lookup_elem(mapFd("pal_stats"), &k, per.data());
    if (rc < 0) return fail(err, rc, "lookup pal_stats");
    for (auto v : per) out[k] += v;
  }
  return 0;
}

int Datapath::drainDenyEvents(std::vector<pal_deny_event> &out, size_t max, std::string &err) {
  if (!ring_) {
    auto cb = [](void *ctx, void *data, size_t size) -> int {
      auto *self = static_cast<Datapath *>(ctx);
      if (size >= sizeof(pal_deny_event) && self->ringSink_) {
        pal_deny_event ev;
        memcpy(&ev, data, sizeof(ev));
        self->ringSink_->push_back(ev);
      }
      return 0;
    };
    ring_ = ring_buffer__new(mapFd("pal_deny_events"), cb, this, nullptr);
    if (!ring_) return fail(err, -errno, "ring_buffer__new pal_deny_events");
  }
  ringSink_ = &out;
  int rc = ring_buffer__consume(ring_);
  ringSink_ = nullptr;
  if (rc < 0) return fail(err, rc, "ring_buffer__consume");
  if (out.size() > max) out.resize(max);
  return 0;
}

template <typename K>
static int listKeys(int fd, std::vector<K> &keys, std::string &err, const char *name) {
  K cur, next;
  bool first = true;
  while (true) {
    int rc = bpf_map_get_next_key(fd, first ? nullptr : &cur, &next);
    if (rc == -ENOENT) break;
    if (rc < 0) return fail(err, rc, std::string("get_next_key ") + name);
    first = false;
    cur = next;
    keys.push_back(next);
  }
  return 0;
}

int Datapath::flowCount(uint32_t &n, std::string &err) const {
  std::vector<pal_flow_key> k6;
  std::vector<pal_flow4_key> k4;
  int rc = listKeys(mapFd("pal_flows"), k6, err, "pal_flows");
  if (rc < 0) return rc;
  rc = listKeys(mapFd("pal_flows4"), k4, err, "pal_flows4");
  if (rc < 0) return rc;
  n = uint32_t(k6.size() + k4.size());
  return 0;
}

int Datapath::clearFlows(std::string &err) {
  std::vector<pal_flow_key> k6;
  std::vector<pal_flow4_key> k4;
  std::vector<pal_frag_key> kf;
  std::vector<pal_flow4_key> kn;
  std::vector<pal_flow_key> kn6;
  int rc = listKeys(mapFd("pal_flows"), k6, err, "pal_flows");
  if (rc == 0) rc = listKeys(mapFd("pal_flows4"), k4, err, "pal_flows4");
  if (rc == 0) rc = listKeys(mapFd("pal_frags"), kf, err, "pal_frags");
  if (rc == 0) rc = listKeys(mapFd("pal_nat4"), kn, err, "pal_nat4");
  if (rc == 0) rc = listKeys(mapFd("pal_nat6"), kn6, err, "pal_nat6");
  if (rc < 0) return rc;
  for (auto &k : k6) (void)bpf_map_delete_elem(mapFd("pal_flows"), &k);
  for (auto &k : k4) (void)bpf_map_delete_elem(mapFd("pal_flows4"), &k);
  for (auto &k : kn) (void)bpf_map_delete_elem(mapFd("pal_nat4"), &k);
  for (auto &k : kn6) (void)bpf_map_delete_elem(mapFd("pal_nat6"), &k);
  for (auto &k : kf) (void)bpf_map_delete_elem(mapFd("pal_frags"), &k);
  // the hints answer for flows4 / flows for up to PAL_FLOW_HINT_REFRESH_S: forget them with the flows
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu < 0) return fail(err, ncpu, "libbpf_num_possible_cpus");
  std::vector<pal_flow_hint4> zero4(static_cast<size_t>(ncpu));
  std::vector<pal_flow_hint6> zero6(static_cast<size_t>(ncpu));
  for (uint32_t slot = 0; slot < PAL_FLOW_HINT_ENTRIES; slot++) {
    if (bpf_map_update_elem(mapFd("pal_flow_hints4"), &slot, zero4.data(), BPF_ANY) != 0)
      return fail(err, -errno, "pal_flow_hints4 clear");
    if (bpf_map_update_elem(mapFd("pal_flow_hints6"), &slot, zero6.data(), BPF_ANY) != 0)
      return fail(err, -errno, "pal_flow_hints6 clear");
  }
  return 0;
}

int Datapath::testRun(const std::string &prog, const uint8_t *pkt, uint32_t len, uint32_t repeat,
                      TestRunResult &out, std::string &err) const {
  int fd = progFd(prog);
  if (fd < 0) return fail(err, -ENOENT, "no program " + prog);
  return testRunFd(fd, pkt, len, repeat, out, err);
}

int Datapath::testRunFd(int fd, const uint8_t *pkt, uint32_t len, uint32_t repeat, TestRunResult &out,
                        std::string &err) {
  std::vector<uint8_t> outBuf(len + 256);
  LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_out = outBuf.data(), .data_size_in = len,
              .data_size_out = static_cast<__u32>(outBuf.size()), .repeat = static_cast<int>(repeat));
  int rc = bpf_prog_test_run_opts(fd, &o);
  if (rc < 0) return fail(err, rc, "bpf_prog_test_run_opts");
  out.retval = static_cast<int>(o.retval);
  out.durationNs = o.duration;
  return 0;
}

int Datapath::loadStandalone(const std::string &objPath, const std::string &prog, std::string &err) {
  libbpf_set_print(libbpfPrint);
  struct bpf_object *obj = bpf_object__open_file(objPath.c_str(), nullptr);
  if (!obj) return fail(err, -errno, "bpf_object__open_file " + objPath);
  int rc = bpf_object__load(obj);
  if (rc < 0) {
    bpf_object__close(obj);
    return fail(err, rc, "bpf_object__load " + objPath, true);
  }
  struct bpf_program *p = bpf_object__find_program_by_name(obj, prog.c_str());
  int fd = p ? dup(bpf_program__fd(p)) : -ENOENT;
  bpf_object__close(obj);
  if (fd < 0) return fail(err, fd < -1 ? fd : -errno, "program " + prog + " in " + objPath);
  return fd;
}

int Datapath::unpin(std::string &err) {
  // everything in the instance's directory is ours (maps of other layouts included)
  if (DIR *d = ::opendir(pinDir_.c_str())) {
    while (struct dirent *e = ::readdir(d)) {
      if (e->d_name[0] == '.') continue;
      ::unlink((pinDir_ + "/" + e->d_name).c_str());
    }
    ::closedir(d);
  }
  if (::rmdir(pinDir_.c_str()) != 0 && errno != ENOENT) return fail(err, -errno, "rmdir " + pinDir_);
  return 0;
}

}  // namespace palisade::ebpf
