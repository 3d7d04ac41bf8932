/**
 * The API's clock. On AWS it is the system clock. The local runtime can start it at another
 * instant (`LOYALTY_CLOCK`), from where it runs on at the normal pace: restarting over the same
 * data with a later instant is how expiry, holds and tier reviews are tried by hand.
 */
let offsetMs = 0;

/** Start the clock at `instant` (RFC 3339); it then runs on. Throws on anything else. */
export function startClockAt(instant: string): void {
  const at = Date.parse(instant);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/i.test(instant) || Number.isNaN(at)) {
    throw new Error(`LOYALTY_CLOCK=${instant} is not an RFC 3339 instant (e.g. 2027-03-01T09:00:00Z)`);
  }
  offsetMs = at - Date.now();
}

/** Now, by the API's clock. */
export function currentTime(): Date {
  return new Date(Date.now() + offsetMs);
}
