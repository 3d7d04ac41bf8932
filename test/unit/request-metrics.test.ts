import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { METRICS_NAMESPACE, publishRequestMetrics, requestMetricValues } from '../../lambdas/http/metrics.ts';

const earnBody = (points: number) =>
  JSON.stringify({ transaction: { points, status: 'posted' }, balances: {} });

describe('requestMetricValues', () => {
  it('counts the points an earn issued, once: a replay is a replay, not points again', () => {
    expect(
      requestMetricValues({ operationId: 'earnPoints', status: 201, replayed: false, body: earnBody(85) }),
    ).toEqual({
      Requests: 1,
      PointsIssued: 85,
    });
    expect(
      requestMetricValues({ operationId: 'earnPoints', status: 201, replayed: true, body: earnBody(85) }),
    ).toEqual({
      Requests: 1,
      IdempotentReplays: 1,
    });
  });

  it('counts a redemption when it is captured, at once or by capture, not while held', () => {
    const redemption = (status: string) =>
      JSON.stringify({ redemption: { status, points: 50 }, balances: {} });
    expect(
      requestMetricValues({
        operationId: 'redeemPoints',
        status: 201,
        replayed: false,
        body: redemption('captured'),
      }),
    ).toEqual({ Requests: 1, PointsRedeemed: 50 });
    expect(
      requestMetricValues({
        operationId: 'redeemPoints',
        status: 201,
        replayed: false,
        body: redemption('held'),
      }),
    ).toEqual({ Requests: 1 });
    expect(
      requestMetricValues({
        operationId: 'captureRedemption',
        status: 200,
        replayed: false,
        body: redemption('captured'),
      }),
    ).toEqual({ Requests: 1, PointsRedeemed: 50 });
  });

  it('classes errors: 4xx, 409 conflicts (also 4xx), 5xx; a refused earn issues nothing', () => {
    expect(
      requestMetricValues({ operationId: 'earnPoints', status: 409, replayed: false, body: '{}' }),
    ).toEqual({
      Requests: 1,
      ClientErrors: 1,
      Conflicts: 1,
    });
    expect(requestMetricValues({ operationId: 'earnPoints', status: 503, replayed: false })).toEqual({
      Requests: 1,
      ServerErrors: 1,
    });
    expect(
      requestMetricValues({ operationId: 'getMember', status: 200, replayed: false, body: 'not json' }),
    ).toEqual({
      Requests: 1,
    });
  });
});

describe('publishRequestMetrics', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes one EMF document per request, by operation, in the LoyaltyApi namespace', () => {
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    const previous = process.env.POWERTOOLS_METRICS_DISABLED;
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    try {
      const target = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'loyalty-api' });
      publishRequestMetrics(
        { operationId: 'earnPoints', status: 201, replayed: false, body: earnBody(85) },
        target,
      );
    } finally {
      process.env.POWERTOOLS_METRICS_DISABLED = previous;
    }
    const documents = lines.flatMap((line) => line.split('\n')).filter((line) => line.includes('_aws'));
    expect(documents).toHaveLength(1);
    const emf = JSON.parse(documents[0] as string);
    expect(emf._aws.CloudWatchMetrics[0].Namespace).toBe('LoyaltyApi');
    expect(emf._aws.CloudWatchMetrics[0].Dimensions[0]).toEqual(
      expect.arrayContaining(['service', 'operation']),
    );
    expect(emf).toMatchObject({
      operation: 'earnPoints',
      service: 'loyalty-api',
      Requests: 1,
      PointsIssued: 85,
    });
  });
});
