import { ValidationError } from '../domain/errors.ts';

/** Opaque list cursors: the DynamoDB LastEvaluatedKey, base64url-encoded JSON. */
export function encodeCursor(lastKey: Record<string, unknown> | undefined): string | null {
  return lastKey ? Buffer.from(JSON.stringify(lastKey)).toString('base64url') : null;
}

/**
 * Decode a cursor and check it points into the partition being listed. A cursor from another list
 * (or a forged one) is a 400, never a DynamoDB error and never a way into other data.
 */
export function decodeCursor(
  cursor: string | undefined,
  expected: Record<string, string>,
  keyNames: readonly string[],
): Record<string, string> | undefined {
  if (cursor === undefined) return undefined;
  const invalid = () =>
    new ValidationError([{ path: 'cursor', message: 'is not a cursor this list returned' }]);
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) throw invalid();
  const record = decoded as Record<string, unknown>;
  const names = Object.keys(record);
  if (names.length !== keyNames.length || !keyNames.every((name) => typeof record[name] === 'string')) {
    throw invalid();
  }
  for (const [name, value] of Object.entries(expected)) if (record[name] !== value) throw invalid();
  return record as Record<string, string>;
}
