// signals.h: defer every blockable signal of the calling thread for one C++ scope (RAII).
//
// What: SignalsDeferred blocks all blockable signals in the constructor and restores the saved mask
// in the destructor; deferred signals are delivered then, a few milliseconds later at most.
// Why: neither libnftables' netlink exchange (nft.cc) nor the set-element batch (setelem.cc) may
// be cut by a signal: a signal arriving mid-transaction (the profiler's SIGPROF, a child's SIGCHLD)
// makes a read report EINTR although the kernel may have committed the batch, and the backend's
// memory then no longer describes the kernel.
// Cost: two pthread_sigmask calls. Thread-safety: affects only the calling thread.
#pragma once

#include <csignal>

#include <pthread.h>

namespace palisade::nft {

class SignalsDeferred {
 public:
  SignalsDeferred() {
    sigset_t all;
    sigfillset(&all);
    ok_ = pthread_sigmask(SIG_BLOCK, &all, &saved_) == 0;
  }
  ~SignalsDeferred() {
    if (ok_) pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
  }
  SignalsDeferred(const SignalsDeferred&) = delete;
  SignalsDeferred& operator=(const SignalsDeferred&) = delete;

 private:
  sigset_t saved_{};
  bool ok_ = false;
};

}  // namespace palisade::nft
