/**
 * The agent process of the kill -9 test: `node build-ebpf/js/test/ebpf/agent-main.js enforce ARGS`
 * (compiled by backends/ebpf/tsconfig.agent.json) runs runEnforceEbpf as `palisade enforce
 * --backend ebpf` would, in whatever network namespace it was started in.
 */
import { runApplyEbpf, runEnforceEbpf } from '../../backends/ebpf/command.js';

const [cmd, ...rest] = process.argv.slice(2);
const run = cmd === 'apply' ? runApplyEbpf : runEnforceEbpf;
process.exitCode = await run(rest);
