/** Network-order address bytes <-> canonical text (via the model's formatter). Pure. */
import { parseIp } from '../../src/model/ip.js';

export function formatIpBytes(b: Uint8Array, family: 4 | 6): string {
  if (family === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return parseIp(groups.join(':'))!.text;
}
