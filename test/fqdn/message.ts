/**
 * Test helper: DNS response messages built byte by byte (RFC 1035 §4), with name compression
 * for owner names that repeat the question, so the parser's pointer path is exercised.
 */
export type TestRecord =
  | { name: string; type: 'A' | 'AAAA'; ttl: number; address: string }
  | { name: string; type: 'CNAME'; ttl: number; target: string }
  | { name: string; type: 'TXT'; ttl: number; text: string };

export interface TestMessage {
  id?: number;
  flags?: number;
  question: string;
  qtype?: number;
  answers: TestRecord[];
}

function name(n: string): number[] {
  const out: number[] = [];
  for (const label of n.replace(/\.$/, '').split('.')) {
    out.push(label.length, ...[...label].map((c) => c.charCodeAt(0)));
  }
  out.push(0);
  return out;
}

function v6(text: string): number[] {
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':').filter(Boolean) : [];
  const t = tail ? tail.split(':').filter(Boolean) : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t].map((g) => parseInt(g, 16));
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

const u16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
const u32 = (v: number): number[] => [...u16(Math.floor(v / 65536)), ...u16(v % 65536)];

function rdata(r: TestRecord): number[] {
  switch (r.type) {
    case 'A':
      return r.address.split('.').map(Number);
    case 'AAAA':
      return v6(r.address);
    case 'CNAME':
      return name(r.target);
    case 'TXT':
      return [r.text.length, ...[...r.text].map((c) => c.charCodeAt(0))];
  }
}

export function dnsResponse(m: TestMessage): Uint8Array {
  const out: number[] = [...u16(m.id ?? 0x1234), ...u16(m.flags ?? 0x8180), ...u16(1), ...u16(m.answers.length), ...u16(0), ...u16(0)];
  out.push(...name(m.question), ...u16(m.qtype ?? 1), ...u16(1));
  for (const r of m.answers) {
    // the question name sits at offset 12: compress owners equal to it
    out.push(...(r.name.toLowerCase() === m.question.toLowerCase() ? [0xc0, 12] : name(r.name)));
    const type = r.type === 'A' ? 1 : r.type === 'AAAA' ? 28 : r.type === 'CNAME' ? 5 : 16;
    const data = rdata(r);
    out.push(...u16(type), ...u16(1), ...u32(r.ttl), ...u16(data.length), ...data);
  }
  return Uint8Array.from(out);
}
