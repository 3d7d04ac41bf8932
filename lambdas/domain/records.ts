/**
 * A map entry that belongs to the map itself: `{}['constructor']` is Object's constructor, not a
 * category called "constructor". Every lookup keyed by client input goes through here.
 */
export function ownValue<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
