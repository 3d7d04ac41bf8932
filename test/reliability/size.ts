/**
 * The one knob of the reliability suite. `npm test` picks these files up too, so the default is a
 * reduced size that fits CI; `npm run test:reliability` sets RELIABILITY_SCALE=full.
 */
const SCALES = {
  reduced: {
    /** Hostile requests across every operation of docs/openapi.json. */
    fuzzCases: 600,
    soakClients: 16,
    soakSeconds: 20,
    soakMembers: 24,
    /** Units of each finite reward: small, so the soak sells out. */
    rewardStock: 5,
    /** Concurrent callers of the faulty points handler, and the earns each must land. */
    faultClients: 8,
    faultEarnsPerClient: 6,
    /** Share of DynamoDB calls that fail (throttled, or a transaction conflict). */
    faultRate: 0.3,
    /** Concurrent earners while DynamoDB Local is killed and restarted. */
    outageClients: 6,
    outageEarnsPerClient: 10,
    /** How long DynamoDB Local stays down before it is restarted. */
    outageMs: 1_500,
  },
  full: {
    fuzzCases: 10_000,
    soakClients: 64,
    soakSeconds: 120,
    soakMembers: 96,
    rewardStock: 20,
    faultClients: 32,
    faultEarnsPerClient: 20,
    faultRate: 0.3,
    outageClients: 16,
    outageEarnsPerClient: 40,
    outageMs: 5_000,
  },
} as const;

export type Scale = keyof typeof SCALES;

function scaleFromEnv(): Scale {
  const value = process.env.RELIABILITY_SCALE ?? 'reduced';
  if (value !== 'reduced' && value !== 'full')
    throw new Error(`RELIABILITY_SCALE=${value}: use "reduced" (the default) or "full"`);
  return value;
}

export const scale: Scale = scaleFromEnv();
export const size = SCALES[scale];

/** fast-check's seed: RELIABILITY_SEED replays a run; otherwise a new one, printed in the summary. */
export const seed = Number(process.env.RELIABILITY_SEED ?? Math.floor(Math.random() * 2 ** 31));
