// nfqueue.h: the N-API door of the nfqueue backend. The single addon (build/Release/palisade.node)
// calls RegisterNfqueue from its module init; nothing else in this folder includes napi.h.
//
// Exports (all prefixed `nfq`):
//   nfqParsePacket(bytes: Uint8Array) -> { status, family, proto, srcPort, dstPort, icmpType,
//       icmpCode, src: Uint8Array(16), dst: Uint8Array(16), l4Offset, firstFragment }
//   nfqParseStatuses(bytes: Uint8Array, offsets: Uint32Array) -> Uint8Array of ParseStatus, one per
//       packet [offsets[i], offsets[i+1]) (fuzzing and throughput tests without a JS object per packet)
//   class NfqLoop(options, onDenied?: (records: Buffer) => void)
//       .start() .stop() .publishRules(packed: Uint8Array, defaultAllow: boolean) -> version
//       .stats() -> object   .resetLatency()
//   nfqConstants -> { denyRecordBytes, ruleBytes, parseStatus: string[] }
// Errors thrown into JS carry a stable `code` (NFQ_BAD_ARGUMENT, NFQ_START_FAILED, NFQ_BAD_RULES).
#pragma once

#include <napi.h>

void RegisterNfqueue(Napi::Env env, Napi::Object exports);
