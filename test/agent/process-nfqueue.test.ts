/** `bin/palisade agent --backend nfqueue` end to end against the test API server (process-suite.ts). */
import { agentProcessSuite } from './process-suite.js';

agentProcessSuite('nfqueue', 23);
