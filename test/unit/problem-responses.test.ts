import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { problemResponses } from '../../lambdas/http/middlewares/problem-responses.ts';
import type { HttpEvent, HttpResult } from '../../lambdas/http/types.ts';

const event = {
  rawPath: '/v1/imports/transactions',
  requestContext: { requestId: 'req-1' },
} as unknown as HttpEvent;
const contextWith = (remainingMs: number) => {
  const deadline = Date.now() + remainingMs;
  return { getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) } as unknown as Context;
};
const slow = (ms: number) => async (): Promise<HttpResult> => {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return { statusCode: 200, headers: {}, body: '{}' };
};

describe('problemResponses', () => {
  it("answers a call that outlasts the function's time (middy's early timeout) with 503 and Retry-After, not 500", async () => {
    const handler = middy<HttpEvent, HttpResult>().use(problemResponses()).handler(slow(500));
    const result = await handler(event, contextWith(50));
    expect(result.statusCode).toBe(503);
    expect(result.headers).toMatchObject({ 'retry-after': '1', 'content-type': 'application/problem+json' });
    expect(JSON.parse(result.body ?? '')).toMatchObject({
      type: '/problems/service-unavailable',
      status: 503,
      detail: expect.stringMatching(/ran out of time/),
      instance: '/v1/imports/transactions',
    });
  });

  it('still answers any other error with the 500 that reveals nothing', async () => {
    const handler = middy<HttpEvent, HttpResult>()
      .use(problemResponses())
      .handler(async () => {
        // A bug of ours (a socket's timeout is DynamoDB being unreachable: 503, fault-injection tests).
        throw new TypeError('boom');
      });
    const original = console.error;
    console.error = () => undefined;
    try {
      const result = await handler(event, contextWith(5_000));
      expect(result.statusCode).toBe(500);
      expect(JSON.parse(result.body ?? '')).toMatchObject({ type: '/problems/internal-error' });
    } finally {
      console.error = original;
    }
  });
});
