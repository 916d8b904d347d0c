/*
 * ebpf.h: the eBPF backend's N-API door. `RegisterEbpf` adds the `EbpfDatapath` class and the
 * standalone test-run helpers to the addon's exports; everything behind it is datapath.h.
 */
#pragma once
#include <napi.h>

void RegisterEbpf(Napi::Env env, Napi::Object exports);
