/**
 * Namespaces of callers that are not a partner start with `_`, which no partner id (a slug of
 * a-z, 0-9 and -) can contain: a partner named `admin` or `coalition` never shares them.
 */
export const COALITION = '_coalition';

/** Idempotency scope of entries the system writes itself (expiry, jobs). */
export const SYSTEM_SCOPE = '_system';
