/**
 * What a million earns cost on AWS, from what the bench measured (request and capacity units per
 * earn, the handler's time) and AWS list prices. The same table is in the README ("Cost per
 * million earns"); both come from PRICES below.
 */
import type { OperationCapacity } from './capacity.ts';
import { round } from './stats.ts';

/**
 * AWS list prices, USD, us-east-1 (N. Virginia), as on the services' pricing pages on 2026-12-02
 * (DynamoDB on-demand since its 2024-11-01 reduction). First pricing tier everywhere; no free tier.
 */
export const PRICES = {
  region: 'us-east-1',
  asOf: '2026-12-02',
  /** API Gateway HTTP API, per million requests (first 300 million a month; each 512 KB counts as one). */
  httpApiPerMillionRequests: 1.0,
  /** Lambda, per million requests. */
  lambdaPerMillionRequests: 0.2,
  /** Lambda on arm64 (Graviton), per GB-second of billed duration (1 ms granularity). */
  lambdaArmPerGbSecond: 0.0000133334,
  /** DynamoDB on-demand, per million write request units (1 KB; ×2 in a transaction). */
  dynamoDbPerMillionWriteUnits: 0.625,
  /** DynamoDB on-demand, per million read request units (4 KB strongly consistent). */
  dynamoDbPerMillionReadUnits: 0.125,
  /** EventBridge, per million custom events put on a bus (each 64 KB counts as one). */
  eventBridgePerMillionEvents: 1.0,
  /** CloudWatch Logs, per GB ingested (standard class). */
  logsPerGbIngested: 0.5,
  /** X-Ray, per million traces recorded (the default rule samples 1 request a second + 5 %). */
  xrayPerMillionTraces: 5.0,
} as const;

/** What the model assumes beyond what the bench measures. */
export const ASSUMPTIONS = {
  /** lib/handler-function.ts's default memory size. */
  memoryMb: 512,
  /** Stream records per publisher invocation (lib/events.ts batchSize; reached under load). */
  publisherBatch: 100,
  /** The publisher's billed time per batch of 100 (PutEvents in parts of 10). */
  publisherMsPerBatch: 150,
  /** Bytes of logs per earn: our request line and EMF metrics, and Lambda's START/END/REPORT. */
  logBytesPerEarn: 1_500,
  /** Share of requests X-Ray records under the default sampling rule at steady load. */
  xraySampledShare: 0.05,
  /** Events one earn puts on the bus (points.earned). */
  eventsPerEarn: 1,
};

export interface CostLine {
  item: string;
  /** USD per million earns. */
  usd: number;
  basis: string;
}

export interface CostResult {
  prices: typeof PRICES;
  assumptions: typeof ASSUMPTIONS;
  perMillionEarns: CostLine[];
  totalUsd: number;
  target: { maxUsd: number; met: boolean };
}

export const COST_TARGET_USD = 8;

/** The cost of a million earns, given one earn's capacity and the handler's measured time. */
export function costPerMillionEarns(earn: OperationCapacity, handlerMsP50: number): CostResult {
  const a = ASSUMPTIONS;
  const gb = a.memoryMb / 1024;
  const billedMs = Math.ceil(handlerMsP50);
  const writeUnits = earn.computed.writeUnits;
  const readUnits = earn.computed.readUnits;
  const lines: CostLine[] = [
    {
      item: 'API Gateway HTTP API',
      usd: PRICES.httpApiPerMillionRequests,
      basis: 'one request per earn (no authorizer)',
    },
    {
      item: 'Lambda requests (points function)',
      usd: PRICES.lambdaPerMillionRequests,
      basis: 'one invocation per earn',
    },
    {
      item: 'Lambda duration (points function)',
      usd: 1e6 * gb * (billedMs / 1000) * PRICES.lambdaArmPerGbSecond,
      basis: `${a.memoryMb} MB arm64 × ${billedMs} ms (the handler's p50 here, on DynamoDB Local)`,
    },
    {
      item: 'DynamoDB writes',
      usd: writeUnits * PRICES.dynamoDbPerMillionWriteUnits,
      basis: `${writeUnits} WRU per earn (${earn.computed.tableWriteUnits} table + ${earn.computed.indexWriteUnits} index), measured`,
    },
    {
      item: 'DynamoDB reads',
      usd: readUnits * PRICES.dynamoDbPerMillionReadUnits,
      basis: `${readUnits} RRU per earn, measured`,
    },
    {
      item: 'EventBridge',
      usd: a.eventsPerEarn * PRICES.eventBridgePerMillionEvents,
      basis: `${a.eventsPerEarn} event per earn (points.earned)`,
    },
    {
      item: 'Event publisher (Lambda)',
      usd:
        (PRICES.lambdaPerMillionRequests +
          1e6 * gb * (a.publisherMsPerBatch / 1000) * PRICES.lambdaArmPerGbSecond) /
        a.publisherBatch,
      basis: `one invocation per ${a.publisherBatch} stream records, ${a.publisherMsPerBatch} ms each (stream reads by Lambda are free)`,
    },
    {
      item: 'CloudWatch Logs',
      usd: ((1e6 * a.logBytesPerEarn) / 1024 ** 3) * PRICES.logsPerGbIngested,
      basis: `${a.logBytesPerEarn} bytes of logs per earn`,
    },
    {
      item: 'X-Ray',
      usd: a.xraySampledShare * PRICES.xrayPerMillionTraces,
      basis: `${a.xraySampledShare * 100} % of requests traced (default sampling)`,
    },
  ].map((line) => ({ ...line, usd: round(line.usd, 3) }));
  const totalUsd = round(
    lines.reduce((total, line) => total + line.usd, 0),
    2,
  );
  return {
    prices: PRICES,
    assumptions: ASSUMPTIONS,
    perMillionEarns: lines,
    totalUsd,
    target: { maxUsd: COST_TARGET_USD, met: totalUsd <= COST_TARGET_USD },
  };
}
