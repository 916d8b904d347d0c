#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 machine (run by prestart, pretest, prebench).
#   1. apt packages, installed only when missing (needs root; otherwise says what is missing), the
#      libclang-rt package matching clang++, the bpffs mount and the nfnetlink_queue module
#   2. npm ci, only when node_modules is missing
#   3. the native addon and BPF objects (cmake-js), only when sources are newer than the build
#   4. the TypeScript build (tsc), only when sources are newer than dist/
set -euo pipefail
cd "$(dirname "$0")/.."

# What the tests need is listed in test/harness/prerequisites.ts; each need's hint points here.
APT_PACKAGES=(build-essential cmake ninja-build pkg-config clang llvm libbpf-dev bpftool
  libnftables-dev nftables libnetfilter-queue-dev libmnl-dev libnftnl-dev iptables iproute2 kmod
  containernetworking-plugins dpdk dpdk-dev python3
  dnsmasq-base bind9-dnsutils  # the FQDN tests' DNS server (no system service) and dig (test/fqdn)
  chromium)           # headless browser for the HTML page test (test/browser/matrix-page.test.ts)

is_root() { [[ $(id -u) -eq 0 ]]; }

# install_missing PKG...: apt-get install the packages that are not installed (root only)
apt_updated=0
install_missing() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  if is_root; then
    echo "setup: installing apt packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    ((apt_updated)) || { apt-get update -qq; apt_updated=1; }
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing apt packages (run as root to install): ${missing[*]}" >&2
  fi
}

install_missing "${APT_PACKAGES[@]}"

# libFuzzer and the sanitizer runtimes (test/nfqueue/parser.test.ts): the libclang-rt package of
# the clang++ that will link them, which `clang` (a dependency package) does not pull in.
if command -v clang++ >/dev/null; then
  clang_major=$(clang++ --version | sed -n 's/.*clang version \([0-9][0-9]*\).*/\1/p' | head -1)
  [[ -n $clang_major ]] && install_missing "libclang-rt-${clang_major}-dev"
  rt_dir=$(clang++ --print-runtime-dir 2>/dev/null || true)
  if [[ ! -e $rt_dir/libclang_rt.fuzzer-x86_64.a && ! -e $rt_dir/libclang_rt.fuzzer.a ]]; then
    echo "setup: libclang_rt.fuzzer is not in clang++ --print-runtime-dir ${rt_dir} (the fuzz test will fail)" >&2
  fi
fi

if is_root; then
  # the eBPF backend pins its maps and programs here
  if ! awk '$2 == "/sys/fs/bpf" && $3 == "bpf" { found = 1 } END { exit !found }' /proc/mounts; then
    echo "setup: mounting the BPF filesystem at /sys/fs/bpf" >&2
    mkdir -p /sys/fs/bpf
    mount -t bpf bpf /sys/fs/bpf || echo "setup: cannot mount bpffs (the eBPF tests will fail)" >&2
  fi
  # the nfqueue backend's verdict loop; the kernel loads nf_tables itself on first use
  if [[ ! -e /proc/net/netfilter/nfnetlink_queue ]]; then
    modprobe nfnetlink_queue 2>/dev/null || echo "setup: cannot load nfnetlink_queue (the nfqueue tests will fail)" >&2
  fi
fi

if [[ ! -d node_modules ]]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund
fi

# newer FILE DIR...: true when any file under DIRs is newer than FILE (or FILE is missing)
newer() {
  local stamp=$1; shift
  [[ ! -e $stamp ]] && return 0
  [[ -n $(find "$@" -newer "$stamp" -type f -print -quit 2>/dev/null) ]]
}

if [[ -f CMakeLists.txt ]] && newer build/Release/palisade.node CMakeLists.txt addon backends bench/native bench/nfqueue-flood.c; then
  echo "setup: building the native addon" >&2
  npx cmake-js compile --out build >/tmp/palisade-cmake.log 2>&1 || { cat /tmp/palisade-cmake.log >&2; exit 1; }
fi

if newer dist/.stamp src backends tsconfig.json; then
  echo "setup: tsc" >&2
  npx tsc -p tsconfig.json
  touch dist/.stamp
fi
