// Seeded random policy sets, part 2 of 2 (30 sets); see random-suite.ts.
import { randomSuite } from './random-suite.js';

randomSuite([404, 505, 606]);
