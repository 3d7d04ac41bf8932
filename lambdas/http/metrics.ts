import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/**
 * Business and request metrics as CloudWatch embedded metric format (EMF): one JSON line in the
 * function's log per request, which CloudWatch turns into metrics with no API call on the hot
 * path. The namespace is the stage's (POWERTOOLS_METRICS_NAMESPACE, set by CDK). Locally (`npm start`,
 * tests) POWERTOOLS_METRICS_DISABLED keeps them out of the output.
 */
export const METRICS_NAMESPACE = process.env.POWERTOOLS_METRICS_NAMESPACE || 'LoyaltyApi';

export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'loyalty-api' });

/** What one request did, as the pipeline saw it at the end. */
export interface RequestOutcome {
  operationId: string;
  status: number;
  replayed: boolean;
  /** The JSON body of a success (business figures are read from the documented answer). */
  body?: string | undefined;
}

export type RequestMetricName =
  | 'Requests'
  | 'ClientErrors'
  | 'ServerErrors'
  | 'Conflicts'
  | 'IdempotentReplays'
  | 'PointsIssued'
  | 'PointsRedeemed';

/** The operations that issue points (the transaction they answer) and that spend them. */
const ISSUING = new Set(['earnPoints', 'recordActivity']);
const REDEEMING = new Set(['redeemPoints', 'captureRedemption']);

// biome-ignore lint/suspicious/noExplicitAny: a success body, read field by field
function parse(body: string | undefined): any {
  try {
    return body ? JSON.parse(body) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The metric values of one request. A replay counts as a replay, not as points again: the figures
 * add up to what the ledger recorded. A redemption counts when captured (at once, or by capture).
 */
export function requestMetricValues(outcome: RequestOutcome): Partial<Record<RequestMetricName, number>> {
  const values: Partial<Record<RequestMetricName, number>> = { Requests: 1 };
  if (outcome.status >= 500) values.ServerErrors = 1;
  else if (outcome.status >= 400) values.ClientErrors = 1;
  if (outcome.status === 409) values.Conflicts = 1;
  if (outcome.replayed) values.IdempotentReplays = 1;
  // Only the few operations that move points have their body parsed: every other success (a
  // history page, a report) goes out without a second JSON.parse on the hot path.
  const issuing = ISSUING.has(outcome.operationId);
  const redeeming = REDEEMING.has(outcome.operationId);
  if (outcome.status < 300 && !outcome.replayed && (issuing || redeeming)) {
    const body = parse(outcome.body);
    const issued = body?.transaction?.points;
    if (issuing && Number.isSafeInteger(issued) && issued > 0) values.PointsIssued = issued;
    const redemption = body?.redemption;
    if (redeeming && redemption?.status === 'captured') values.PointsRedeemed = redemption.points;
  }
  return values;
}

/** Adds one request's metrics, by operation, and writes them out (one EMF line). */
export function publishRequestMetrics(outcome: RequestOutcome, target: Metrics = metrics): void {
  const values = requestMetricValues(outcome);
  target.addDimension('operation', outcome.operationId);
  for (const [name, value] of Object.entries(values)) target.addMetric(name, MetricUnit.Count, value);
  target.publishStoredMetrics();
}
