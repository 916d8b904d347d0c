/** `bin/palisade agent --backend nftables` end to end against the test API server (process-suite.ts). */
import { agentProcessSuite } from './process-suite.js';

agentProcessSuite('nftables', 21);
