/** `bin/palisade agent --backend ebpf` end to end against the test API server (process-suite.ts). */
import { agentProcessSuite } from './process-suite.js';

agentProcessSuite('ebpf', 22);
