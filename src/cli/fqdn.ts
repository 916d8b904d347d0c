/**
 * The FQDN flags of `palisade enforce` and `palisade agent` (docs/fqdn.md): --dns-server IP
 * (repeatable; replaces the kube-dns endpoints) and --fqdn-min-ttl SECONDS; learning itself starts
 * from src/fqdn/start.ts. Pure parsing.
 */
import { parseIp } from '../model/ip.js';
import { UsageError } from './args.js';

export function dnsServersOf(values: readonly string[] | undefined): string[] | undefined {
  if (!values || values.length === 0) return undefined;
  return values.map((v) => {
    const a = parseIp(v);
    if (!a) throw new UsageError(`--dns-server ${JSON.stringify(v)} is not an IP address`);
    return a.text;
  });
}

export function minTtlOf(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new UsageError(`--fqdn-min-ttl ${JSON.stringify(value)} is not a whole number of seconds`);
  return n;
}
