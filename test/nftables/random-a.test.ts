// Seeded random policy sets, part 1 of 2 (30 sets); see random-suite.ts.
import { randomSuite } from './random-suite.js';

randomSuite([101, 202, 303]);
