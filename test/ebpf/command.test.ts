/**
 * `palisade apply | enforce | stats --backend ebpf` argument handling through the one CLI
 * (src/cli/backend.ts + backend-flags.ts; unprivileged: nothing here reaches the kernel): help
 * lists the eBPF flags, usage errors exit 2, invalid manifests exit 2 before a backend is built.
 */
import { describe, expect, it } from 'vitest';
import type { Io } from '../../src/cli/io.js';
import { run } from '../../src/cli/main.js';

function capture(): Io & { text: () => string } {
  let all = '';
  return { out: (t) => void (all += t), err: (t) => void (all += t), text: () => all };
}

describe('palisade apply | enforce | stats --backend ebpf: arguments', () => {
  it('--help prints the verb with the eBPF flags and exits 0', async () => {
    for (const verb of ['apply', 'enforce', 'stats']) {
      const c = capture();
      expect(await run([verb, '--backend', 'ebpf', '--help'], c)).toBe(0);
      expect(c.text()).toMatch(new RegExp(`palisade ${verb}`));
      expect(c.text()).toMatch(/--pin-root/);
    }
  });
  it('apply without -f or --delete, an unknown flag, a bad --interfaces-ms: usage error, exit 2', async () => {
    for (const argv of [['apply', '--backend', 'ebpf'], ['apply', '--backend', 'ebpf', '--frobnicate'], ['enforce', '--backend', 'ebpf', '--interfaces-ms', 'soon', '-f', '.']]) {
      const c = capture();
      expect(await run(argv, c)).toBe(2);
      expect(c.text()).not.toBe('');
    }
  });
  it('apply with invalid manifests reports the problems and exits 2 before touching the kernel', async () => {
    const c = capture();
    expect(await run(['apply', '--backend', 'ebpf', '-f', '/nonexistent/palisade-ebpf-test'], c)).toBe(2);
    expect(c.text()).toMatch(/palisade-ebpf-test/);
  });
});
