/**
 * JSON output: addresses (IpAddr, with a bigint inside) print as their canonical text, so a
 * FlowVerdict's `flow.src` reads "10.244.1.10". Pure.
 */
export function toJson(value: unknown): string {
  return JSON.stringify(value, replacer, 2) + '\n';
}

function replacer(_key: string, v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v !== null && typeof v === 'object' && 'text' in v && 'family' in v && typeof (v as { value?: unknown }).value === 'bigint') {
    return (v as { text: string }).text;
  }
  return v;
}
