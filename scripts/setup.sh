#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian 12 machine (run by prestart, pretest, prebench).
#   1. apt packages, installed only when missing (needs root; otherwise says what is missing)
#   2. npm ci, only when node_modules is missing
#   3. the native addon and BPF objects (cmake-js), only when sources are newer than the build
#   4. the TypeScript build (tsc), only when sources are newer than dist/
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(build-essential cmake ninja-build pkg-config clang llvm libbpf-dev bpftool
  libnftables-dev nftables libnetfilter-queue-dev libmnl-dev iptables iproute2
  containernetworking-plugins dpdk dpdk-dev python3
  libclang-rt-14-dev  # libFuzzer and the sanitizer runtimes (test/nfqueue/parser.test.ts)
  chromium)           # headless browser for the HTML page test (test/browser/matrix-page.test.ts)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "setup: installing apt packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing apt packages (run as root to install): ${missing[*]}" >&2
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
