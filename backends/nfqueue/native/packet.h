// packet.h: the nfqueue packet parser: an IP packet as the queue hands it over -> a FlowKey.
//
// What: parses one IPv4 or IPv6 packet (the payload of an NFQA_PAYLOAD attribute, which starts at
// the network header) into the 5-tuple a classifier needs, and says precisely why when it cannot.
//
// Invariants:
// - Never reads outside [data, data + capLen). capLen may be shorter than the packet (the queue's
//   copy range): bytes beyond it are "not captured", which is Truncated only when a header the
//   parser needs lies beyond it.
// - The IP length field bounds the packet: trailing bytes past it (link padding) are ignored; a
//   header that would end past it is Malformed.
// - Every input gets exactly one ParseStatus; only ParseStatus::Ok and ParseStatus::Unported carry a
//   usable FlowKey. What the loop does with the other statuses is fixed in loop.h
//   ("Unclassifiable packets"): dropped when fail-closed.
// - Fragments: only the first fragment (offset 0) carries the L4 header, so only it yields ports.
//   A later fragment (offset != 0) is NonFirstFragment: it cannot be classified on its own. In the
//   steering set-up Palisade uses, conntrack has already reassembled fragments before the hook
//   (nf_defrag_ipv4/ipv6 run at priority -400), so a non-first fragment reaching the queue is
//   unusual; the policy is the fail mode's (drop when fail-closed).
// - IPv6 extension headers: hop-by-hop (only directly after the fixed header, RFC 8200 4.1),
//   routing, fragment, destination options and AH are walked; at most kMaxExtHeaders of them
//   (each advances the offset by >= 8 bytes, so the walk cannot loop; the bound caps its cost).
//   ESP, "no next header" (59) and unknown next headers end the walk: the protocol is that value and
//   the packet has no ports (ParseStatus::Unported). Jumbograms (payload length 0) are Malformed.
// - Addresses are copied in network byte order (as on the wire); ports are HOST order.
//
// Cost: O(number of extension headers), no allocation, ~20-40 ns for a TCP/UDP packet.
// Thread-safety: pure function over its arguments.
#pragma once

#include <cstddef>
#include <cstdint>

namespace palisade::nfq {

constexpr uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17, kProtoIcmp6 = 58, kProtoSctp = 132;
constexpr int kMaxExtHeaders = 8;

enum class ParseStatus : uint8_t {
  Ok = 0,                // family, addresses, protocol and (for TCP/UDP/SCTP) ports are set
  Unported = 1,          // addresses and protocol set; a protocol without ports (ICMP, GRE, ESP, ...)
  NonFirstFragment = 2,  // addresses and protocol set, no L4 header in this fragment
  Truncated = 3,         // a needed header lies beyond the captured bytes
  Malformed = 4,         // the packet contradicts itself (bad version, IHL, lengths, HBH position)
  ExtHeaderLimit = 5,    // more than kMaxExtHeaders IPv6 extension headers
};
constexpr int kParseStatusCount = 6;
const char* parseStatusName(ParseStatus s);

// The 5-tuple plus what a log line needs. Layout is plain; 44 bytes.
struct FlowKey {
  uint8_t family = 0;     // 4 or 6 (0 when the version nibble was not readable)
  uint8_t proto = 0;      // L4 protocol number (after IPv6 extension headers)
  uint8_t icmpType = 0;   // ICMP / ICMPv6 only
  uint8_t icmpCode = 0;
  uint16_t srcPort = 0;   // host order; 0 when the protocol has no ports
  uint16_t dstPort = 0;
  uint8_t srcAddrNet[16] = {};  // network order; IPv4 uses the first 4 bytes
  uint8_t dstAddrNet[16] = {};
};

struct ParseResult {
  ParseStatus status = ParseStatus::Malformed;
  uint16_t l4Offset = 0;   // offset of the L4 header (valid for Ok / Unported)
  bool firstFragment = false;  // packet is the first fragment of a fragmented datagram (MF=1, offset 0)
};

// Parse `capLen` captured bytes starting at the IP header. Fills `key` as far as it got.
ParseResult parsePacket(const uint8_t* data, size_t capLen, FlowKey& key);

}  // namespace palisade::nfq
