#!/usr/bin/env python3
"""SCTP probes with raw protocol-132 packets (this kernel has no SCTP sockets; Node has no raw
sockets). Run inside a namespace: `ip netns exec NS python3 sctp_raw.py MODE`.

  listen   raw IPv4 and IPv6 sockets for protocol 132; prints "ready", then one JSON line
           {"tag","src","sport","dport"} per SCTP INIT that arrives for a local address. It is also
           this namespace's sender: a stdin line {"req":N,"probes":[...]} (as for `send`) is
           answered by {"req":N,"results":[...]}. Exits when stdin closes.
  send     reads [{"tag","src","srcPort","dst","dstPort"}] on stdin and sends one SCTP INIT each
           (RFC 9260 section 3.3.2: common header with verification tag 0 and a CRC32c checksum,
           one INIT chunk whose Initiate Tag is the probe's tag). Prints one JSON array
           [{"tag","error"?}]; an EPERM means the node's output hook dropped it.

The tag identifies the probe, so arrival is matched exactly. The checksum must be right: conntrack
marks an SCTP packet with a bad CRC32c invalid (nf_conntrack_proto_sctp.c, sctp_error()).
Bounded: `send` sends each packet once; `listen` lives as long as its stdin.
"""
import json
import os
import select
import socket
import struct
import sys

IPPROTO_SCTP = 132


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def init_packet(src_port: int, dst_port: int, tag: int) -> bytes:
    chunk = struct.pack('!BBHIIHHI', 1, 0, 20, tag, 65535, 1, 1, tag)
    pkt = struct.pack('!HHII', src_port, dst_port, 0, 0) + chunk
    # the CRC32c goes into the packet in little-endian order, as Linux's sctp_compute_cksum stores it
    return pkt[:8] + struct.pack('<I', crc32c(pkt)) + pkt[12:]


def send_all(probes):
    socks = {}
    out = []
    for p in probes:
        fam = socket.AF_INET6 if ':' in p['dst'] else socket.AF_INET
        key = (fam, p['src'])
        try:
            if key not in socks:
                s = socket.socket(fam, socket.SOCK_RAW, IPPROTO_SCTP)
                s.bind((p['src'], 0, 0, 0) if fam == socket.AF_INET6 else (p['src'], 0))
                socks[key] = s
            dst = (p['dst'], 0, 0, 0) if fam == socket.AF_INET6 else (p['dst'], 0)
            socks[key].sendto(init_packet(p['srcPort'], p['dstPort'], p['tag']), dst)
            out.append({'tag': p['tag']})
        except OSError as e:
            import errno as _errno
            out.append({'tag': p['tag'], 'error': _errno.errorcode.get(e.errno, str(e.errno))})
    for s in socks.values():
        s.close()
    return out


def parse_sctp(payload: bytes):
    if len(payload) < 20 or payload[12] != 1:  # not an INIT chunk
        return None
    sport, dport = struct.unpack('!HH', payload[:4])
    (tag,) = struct.unpack('!I', payload[16:20])
    return sport, dport, tag


def listen():
    s4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_SCTP)
    s6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, IPPROTO_SCTP)
    sys.stdout.write('ready\n')
    sys.stdout.flush()
    pending = b''
    while True:
        ready, _, _ = select.select([s4, s6, sys.stdin], [], [])
        for r in ready:
            if r is sys.stdin:
                chunk = os.read(sys.stdin.fileno(), 65536)
                if not chunk:
                    return
                pending += chunk
                while b'\n' in pending:
                    line, pending = pending.split(b'\n', 1)
                    if not line.strip():
                        continue
                    req = json.loads(line)
                    results = send_all(req['probes'])
                    sys.stdout.write(json.dumps({'req': req['req'], 'results': results}) + '\n')
                    sys.stdout.flush()
                continue
            data, addr = r.recvfrom(65535)
            if r is s4:
                ihl = (data[0] & 0x0F) * 4
                data = data[ihl:]
            parsed = parse_sctp(data)
            if parsed is None:
                continue
            sport, dport, tag = parsed
            sys.stdout.write(json.dumps({'tag': tag, 'src': addr[0], 'sport': sport, 'dport': dport}) + '\n')
            sys.stdout.flush()


if __name__ == '__main__':
    mode = sys.argv[1] if len(sys.argv) > 1 else ''
    if mode == 'listen':
        listen()
    elif mode == 'send':
        sys.stdout.write(json.dumps(send_all(json.load(sys.stdin))))
    else:
        sys.stderr.write('usage: sctp_raw.py listen | send < JSON\n')
        sys.exit(2)
