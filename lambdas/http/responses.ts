import type { DomainError } from '../domain/errors.ts';
import type { HttpResult } from './types.ts';

export const JSON_TYPE = 'application/json';
export const PROBLEM_TYPE = 'application/problem+json';

export function jsonResult(status: number, body: string, headers: Record<string, string> = {}): HttpResult {
  return { statusCode: status, headers: { 'content-type': JSON_TYPE, ...headers }, body };
}

/** RFC 9457 problem details for a domain error; `instance` is the request path. */
export function problemResult(error: DomainError, instance?: string): HttpResult {
  const body = {
    ...error.extensions,
    type: `/problems/${error.type}`,
    title: error.title,
    status: error.status,
    detail: error.message,
    ...(instance ? { instance } : {}),
    ...(error.errors ? { errors: error.errors } : {}),
  };
  return {
    statusCode: error.status,
    headers: { 'content-type': PROBLEM_TYPE, ...error.headers },
    body: JSON.stringify(body),
  };
}

/** The one 500 body: says nothing about the failure, points at the request id in the logs. */
export function internalErrorResult(requestId: string): HttpResult {
  return {
    statusCode: 500,
    headers: { 'content-type': PROBLEM_TYPE },
    body: JSON.stringify({
      type: '/problems/internal-error',
      title: 'Internal error',
      status: 500,
      detail: `Something went wrong on our side. Quote request id ${requestId} when you report it.`,
    }),
  };
}
