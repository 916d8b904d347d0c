// netns_scope.h: hold the calling thread in a network namespace for one C++ scope (RAII). The ONE
// namespace switch of Palisade's native code: every backend (backends/*/native) and the N-API glue
// (addon/napi) that acts "inside --netns PATH" uses this class.
//
// What: NetnsScope(path) switches the CALLING THREAD (setns CLONE_NEWNET) into the namespace at
// `path` (e.g. /run/netns/NAME or /proc/PID/ns/net); the destructor switches it back on every exit
// path (return, C++ exception, a JS exception unwinding through node-addon-api). Sockets opened
// inside the scope stay in that namespace after it ends (that is the point: netlink, nfqueue and tc
// sockets bound to a pod's or node's namespace).
//   - path "" means "stay where you are": nothing is opened or switched, ok() is true.
//   - already in the target namespace (same device and inode): no setns, which would need
//     CAP_SYS_ADMIN; an agent started with `nsenter --net=PATH ... --netns PATH` works unprivileged.
//
// Failure rule (the same for every backend):
//   - ENTERING fails (cannot open the path or /proc/thread-self/ns/net, or setns refuses): nothing
//     changed, the thread is where it was; ok() is false and step()/err()/failedPath() say why. The
//     caller turns that into its own error result (its code and message; no exception here).
//   - Switching BACK fails: the process aborts with a message on stderr. Carrying on would leave
//     this thread (often Node's main thread) in the wrong namespace: every later socket, nftables
//     transaction, tc attach or conntrack dump on it would silently act on another node's or pod's
//     network, which for a packet filter means enforcing (or removing) policy in the wrong place.
//     There is no safe recovery: the original namespace is held open by fd, so the switch back can
//     only fail on resource exhaustion or lost privileges, and a second attempt would fail the same
//     way. A crashed enforcer leaves the kernel state as it was (fail closed), and its supervisor
//     restarts it; a netns-confused thread would not be noticed at all.
//
// Cost: two open(2) + two setns(2) per scope, ~14 us. Thread-safety: affects only the calling
// thread, for the scope's lifetime; do not hand the scope to another thread.
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace palisade::kernel {

class NetnsScope {
 public:
  // Where entering failed.
  enum class Step { None, Open, Enter };

  explicit NetnsScope(const std::string& path) {
    if (path.empty()) return;
    const char* self = "/proc/thread-self/ns/net";
    home_ = ::open(self, O_RDONLY | O_CLOEXEC);
    if (home_ < 0) {
      fail(Step::Open, self);
      return;
    }
    const int target = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (target < 0) {
      fail(Step::Open, path);
      return;
    }
    struct stat a {}, b {};
    if (::fstat(home_, &a) == 0 && ::fstat(target, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
      ::close(target);  // already there
      ::close(home_);
      home_ = -1;
      return;
    }
    if (::setns(target, CLONE_NEWNET) != 0) {
      const int e = errno;
      ::close(target);
      errno = e;
      fail(Step::Enter, path);
      return;
    }
    ::close(target);
    entered_ = true;
  }

  ~NetnsScope() {
    if (entered_ && ::setns(home_, CLONE_NEWNET) != 0) {
      std::fprintf(stderr,
                   "palisade: cannot switch this thread back to its original network namespace (%s); "
                   "aborting rather than acting on the wrong network\n",
                   std::strerror(errno));
      std::abort();
    }
    if (home_ >= 0) ::close(home_);
  }

  NetnsScope(const NetnsScope&) = delete;
  NetnsScope& operator=(const NetnsScope&) = delete;

  // True when the thread is in the requested namespace (or path was "").
  bool ok() const { return step_ == Step::None; }
  Step step() const { return step_; }
  // errno of the failed open(2) or setns(2); 0 when ok().
  int err() const { return err_; }
  // The path that could not be opened or entered (may be /proc/thread-self/ns/net).
  const std::string& failedPath() const { return failedPath_; }

 private:
  void fail(Step step, const std::string& path) {
    err_ = errno != 0 ? errno : EINVAL;
    step_ = step;
    failedPath_ = path;
    if (home_ >= 0) ::close(home_);
    home_ = -1;
  }

  int home_ = -1;
  bool entered_ = false;
  Step step_ = Step::None;
  int err_ = 0;
  std::string failedPath_;
};

}  // namespace palisade::kernel
