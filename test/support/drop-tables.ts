import { afterAll } from 'vitest';
import { dropTestTables } from './table.ts';

// A setup file (vitest.config.ts): registered first, so it runs after the file's own afterAll
// hooks have closed its servers and pollers.
afterAll(dropTestTables);
