import type { Store } from '../../lambdas/store/client.ts';

const WRITES = /^(Put|Update|Delete|BatchWrite|TransactWrite)/;

/** Authentication's bookkeeping (touchApiKey), written on use whatever the answer: not a change. */
const isKeyTouch = (input: { UpdateExpression?: unknown }) => input.UpdateExpression === 'SET lastUsedAt = :now';

/**
 * Counts the write commands a store's client sends (attempted, whether or not DynamoDB applies them):
 * a rejected request must not even try to write. Cheap enough to check after every request, where a
 * table snapshot is not.
 */
export function probeWrites(store: Store): { count: () => number; commands: () => string[] } {
  const seen: string[] = [];
  store.db.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String((context as { commandName?: unknown }).commandName ?? '');
      if (WRITES.test(name) && !isKeyTouch(args.input as { UpdateExpression?: unknown })) seen.push(name);
      return next(args);
    },
    { step: 'initialize', name: 'reliabilityWriteProbe' },
  );
  return { count: () => seen.length, commands: () => [...seen] };
}
