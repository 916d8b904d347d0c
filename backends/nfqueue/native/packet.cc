// packet.cc: see packet.h for the contract. Every read is preceded by a bounds check against
// `pktLen` (what the IP header says exists: Malformed when violated) and `capLen` (what the queue
// copied: Truncated when violated), in that order.
#include "packet.h"

#include <cstring>

namespace palisade::nfq {

namespace {

inline uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

struct Bounds {
  size_t pktLen;  // bytes the IP header says the packet has (from offset 0)
  size_t capLen;  // bytes captured (from offset 0)
  // ParseStatus::Ok when [off, off + n) is inside both; the failing status otherwise.
  ParseStatus need(size_t off, size_t n) const {
    if (off + n > pktLen) return ParseStatus::Malformed;
    if (off + n > capLen) return ParseStatus::Truncated;
    return ParseStatus::Ok;
  }
};

// The L4 header at `off`. `wholeDatagram` is false for a first fragment, whose L4 length fields
// describe the reassembled datagram rather than this packet.
ParseStatus parseL4(const uint8_t* d, const Bounds& b, size_t off, bool wholeDatagram, FlowKey& key) {
  ParseStatus s;
  switch (key.proto) {
    case kProtoTcp: {
      if ((s = b.need(off, 20)) != ParseStatus::Ok) return s;
      const unsigned dataOffsetWords = d[off + 12] >> 4;
      if (dataOffsetWords < 5) return ParseStatus::Malformed;
      if (off + dataOffsetWords * 4u > b.pktLen) return ParseStatus::Malformed;
      key.srcPort = be16(d + off);
      key.dstPort = be16(d + off + 2);
      return ParseStatus::Ok;
    }
    case kProtoUdp: {
      if ((s = b.need(off, 8)) != ParseStatus::Ok) return s;
      const size_t udpLen = be16(d + off + 4);
      if (udpLen < 8) return ParseStatus::Malformed;
      if (wholeDatagram && off + udpLen > b.pktLen) return ParseStatus::Malformed;
      key.srcPort = be16(d + off);
      key.dstPort = be16(d + off + 2);
      return ParseStatus::Ok;
    }
    case kProtoSctp: {
      if ((s = b.need(off, 12)) != ParseStatus::Ok) return s;
      key.srcPort = be16(d + off);
      key.dstPort = be16(d + off + 2);
      return ParseStatus::Ok;
    }
    case kProtoIcmp:
    case kProtoIcmp6: {
      if ((s = b.need(off, 8)) != ParseStatus::Ok) return s;
      key.icmpType = d[off];
      key.icmpCode = d[off + 1];
      return ParseStatus::Unported;
    }
    default:
      return ParseStatus::Unported;
  }
}

ParseResult parse4(const uint8_t* d, size_t capLen, FlowKey& key) {
  ParseResult r;
  key.family = 4;
  if (capLen < 20) {
    // the version nibble says IPv4; a total length we can read may still prove it malformed
    r.status = (capLen >= 4 && be16(d + 2) < 20) ? ParseStatus::Malformed : ParseStatus::Truncated;
    return r;
  }
  const size_t headerLen = (d[0] & 0x0f) * 4u;
  const size_t totalLen = be16(d + 2);
  if (headerLen < 20 || totalLen < headerLen) {
    r.status = ParseStatus::Malformed;
    return r;
  }
  if (capLen < headerLen) {
    r.status = ParseStatus::Truncated;
    return r;
  }
  key.proto = d[9];
  std::memcpy(key.srcAddrNet, d + 12, 4);
  std::memcpy(key.dstAddrNet, d + 16, 4);
  const uint16_t frag = be16(d + 6);
  const bool moreFragments = (frag & 0x2000) != 0;
  const unsigned fragOffset = frag & 0x1fff;
  if (fragOffset != 0) {
    r.status = ParseStatus::NonFirstFragment;
    return r;
  }
  r.firstFragment = moreFragments;
  const Bounds b{totalLen, capLen};
  r.status = parseL4(d, b, headerLen, !moreFragments, key);
  r.l4Offset = static_cast<uint16_t>(headerLen);
  return r;
}

ParseResult parse6(const uint8_t* d, size_t capLen, FlowKey& key) {
  ParseResult r;
  key.family = 6;
  if (capLen < 40) {
    r.status = ParseStatus::Truncated;
    return r;
  }
  const size_t payloadLen = be16(d + 4);
  if (payloadLen == 0) {  // a jumbogram (RFC 2675) or garbage: neither is classifiable
    r.status = ParseStatus::Malformed;
    return r;
  }
  std::memcpy(key.srcAddrNet, d + 8, 16);
  std::memcpy(key.dstAddrNet, d + 24, 16);
  const Bounds b{40 + payloadLen, capLen};
  uint8_t next = d[6];
  size_t off = 40;
  bool fragmented = false;
  for (int seen = 0;; ++seen) {
    size_t len = 0;
    bool isExt = true;
    switch (next) {
      case 0:  // hop-by-hop: only allowed directly after the fixed header
        if (off != 40) {
          key.proto = next;
          r.status = ParseStatus::Malformed;
          return r;
        }
        [[fallthrough]];
      case 43:  // routing
      case 60:  // destination options
      case 51:  // AH: length in 4-octet units minus 2
      case 44:  // fragment: fixed 8 bytes
        break;
      default:
        isExt = false;
    }
    if (!isExt) break;
    if (seen >= kMaxExtHeaders) {
      key.proto = next;
      r.status = ParseStatus::ExtHeaderLimit;
      return r;
    }
    ParseStatus s = b.need(off, next == 44 ? 8 : 2);
    if (s != ParseStatus::Ok) {
      key.proto = next;
      r.status = s;
      return r;
    }
    if (next == 44) {
      len = 8;
      const uint16_t offsetFlags = be16(d + off + 2);
      if ((offsetFlags & 0xfff8) != 0) {
        key.proto = d[off];
        r.status = ParseStatus::NonFirstFragment;
        return r;
      }
      fragmented = fragmented || (offsetFlags & 1) != 0;
    } else if (next == 51) {
      len = (static_cast<size_t>(d[off + 1]) + 2) * 4;
    } else {
      len = (static_cast<size_t>(d[off + 1]) + 1) * 8;
    }
    if (off + len > b.pktLen) {
      key.proto = next;
      r.status = ParseStatus::Malformed;
      return r;
    }
    next = d[off];
    off += len;
  }
  key.proto = next;
  r.firstFragment = fragmented;
  r.status = parseL4(d, b, off, !fragmented, key);
  r.l4Offset = static_cast<uint16_t>(off);
  return r;
}

}  // namespace

const char* parseStatusName(ParseStatus s) {
  switch (s) {
    case ParseStatus::Ok: return "ok";
    case ParseStatus::Unported: return "unported";
    case ParseStatus::NonFirstFragment: return "non-first-fragment";
    case ParseStatus::Truncated: return "truncated";
    case ParseStatus::Malformed: return "malformed";
    case ParseStatus::ExtHeaderLimit: return "ext-header-limit";
  }
  return "unknown";
}

ParseResult parsePacket(const uint8_t* data, size_t capLen, FlowKey& key) {
  key = FlowKey{};
  if (data == nullptr || capLen == 0) {
    ParseResult r;
    r.status = ParseStatus::Truncated;
    return r;
  }
  switch (data[0] >> 4) {
    case 4: return parse4(data, capLen, key);
    case 6: return parse6(data, capLen, key);
    default: {
      ParseResult r;
      r.status = ParseStatus::Malformed;
      return r;
    }
  }
}

}  // namespace palisade::nfq
