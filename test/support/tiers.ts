import type { Tier } from '../../lambdas/schemas/program.ts';

/** The tiers the unit tests of the ledger domain share: an entry tier, silver at 1,000, gold at 5,000. */
export const tiers: Tier[] = [
  { code: 'member', name: 'Member', minQualifyingPoints: 0, earnMultiplier: 1 },
  { code: 'silver', name: 'Silver', minQualifyingPoints: 1000, earnMultiplier: 1.25 },
  { code: 'gold', name: 'Gold', minQualifyingPoints: 5000, earnMultiplier: 1.5 },
];
