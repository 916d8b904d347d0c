// Seeded random policy sets, part 1 of 3 (20 sets); see random-suite.ts.
import { randomSuite } from './random-suite.js';

randomSuite([101, 202]);
