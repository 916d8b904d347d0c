/**
 * Stand-alone entry until the CLI dispatches `--backend nftables`:
 *   node <compiled>/backends/nftables/main.js apply   --backend nftables -f PATH... | --delete
 *   node <compiled>/backends/nftables/main.js enforce --backend nftables -f DIR [--log-denied]
 *   node <compiled>/backends/nftables/main.js stats   --backend nftables [--json]
 * Compile with `npx tsc -p backends/nftables/tsconfig.build.json` (into .bench-tmp/nft-dist).
 * Acts in the network namespace it runs in (e.g. under `ip netns exec NODE`), or --netns PATH.
 */
import { runApplyNftables, runEnforceNftables, runStatsNftables } from './command.js';

const [command, ...args] = process.argv.slice(2);
const commands: Record<string, (argv: readonly string[]) => Promise<number>> = {
  apply: runApplyNftables,
  enforce: runEnforceNftables,
  stats: runStatsNftables,
};
const run = command !== undefined ? commands[command] : undefined;
if (!run) {
  process.stderr.write('usage: main.js apply|enforce|stats [--backend nftables] [flags]\n');
  process.exitCode = 2;
} else {
  process.exitCode = await run(args);
}
