/**
 * `LOYALTY_EVENTS_WEBHOOK`: POSTs each line of `<dataDir>/events.ndjson` to a URL, in order, at least
 * once. It reads the file from its own offset (`<dataDir>/webhook.offset`, advanced only after a 2xx),
 * so a slow or dead webhook never holds back the stream poller or the API, and no event is skipped:
 * a failed POST is retried with exponential backoff until it succeeds or the deliverer stops. A crash
 * between a 2xx and saving the offset sends that event again; receivers dedupe by
 * `X-Loyalty-Event-Id` (the event's `id`).
 */
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Backoff, backoffDelay, DEFAULT_BACKOFF, formatMs, sleep } from './backoff.ts';
import { EVENTS_FILE, type LogLine, messageOf, writeFileAtomic } from './event-sink.ts';

export const OFFSET_FILE = 'webhook.offset';

export interface WebhookDelivererOptions {
  url: string;
  dataDir: string;
  /** The pause when the file has nothing new (250 ms). */
  pollIntervalMs?: number;
  /** Between attempts at one event: 0.5 s doubling, capped at 30 s, with jitter. */
  backoff?: Backoff;
  /** How long one POST may take before it counts as failed (10 s). */
  timeoutMs?: number;
  /** One line per failed attempt (console.error by default); never throws. */
  log?: LogLine;
  random?: () => number;
}

export interface WebhookDeliverer {
  /** Stops at once, even in the middle of retrying (the offset stays before that event). */
  stop(): Promise<void>;
  /** Resolves when every complete line of the file, as it is now, has been delivered (tests). */
  delivered(): Promise<void>;
}

/** A line is read in pieces this big at most (a longer line is read in several). */
const READ_CHUNK = 256 * 1024;

export function startWebhookDeliverer(options: WebhookDelivererOptions): WebhookDeliverer {
  const log = options.log ?? ((line: string) => console.error(line));
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const random = options.random ?? Math.random;
  const file = join(options.dataDir, EVENTS_FILE);
  const offsetFile = join(options.dataDir, OFFSET_FILE);
  const stopper = new AbortController();
  const signal = stopper.signal;
  let offset = 0;
  const waiters: { until: number; resolve: () => void }[] = [];

  /** The next complete line at `offset` (without its newline) and its length in bytes with it. */
  async function nextLine(size: number): Promise<{ line: string; bytes: number } | undefined> {
    const handle = await open(file, 'r');
    try {
      const pieces: Buffer[] = [];
      let position = offset;
      while (position < size) {
        const buffer = Buffer.alloc(Math.min(READ_CHUNK, size - position));
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
        if (bytesRead === 0) break;
        const piece = buffer.subarray(0, bytesRead);
        const end = piece.indexOf(0x0a);
        if (end !== -1) {
          pieces.push(piece.subarray(0, end));
          const line = Buffer.concat(pieces);
          return { line: line.toString('utf8'), bytes: line.length + 1 };
        }
        pieces.push(piece);
        position += bytesRead;
      }
      return undefined; // the last line is still being written
    } finally {
      await handle.close();
    }
  }

  /** POSTs one event until a 2xx; false if stopped first. */
  async function deliver(line: string): Promise<boolean> {
    let event: { id?: unknown; type?: unknown } = {};
    try {
      event = JSON.parse(line);
    } catch {
      // Sent as it is: the receiver sees what the file holds.
    }
    const id = typeof event.id === 'string' ? event.id : 'unknown';
    for (let attempt = 1; !signal.aborted; attempt += 1) {
      let failure: string;
      try {
        const response = await fetch(options.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-loyalty-event-id': id,
            ...(typeof event.type === 'string' ? { 'x-loyalty-event-type': event.type } : {}),
          },
          body: line,
          redirect: 'manual',
          signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
        });
        await response.body?.cancel().catch(() => {});
        if (response.status >= 200 && response.status < 300) return true;
        failure = `answered ${response.status}`;
      } catch (error) {
        if (signal.aborted) return false;
        failure = `failed (${causeOf(error)})`;
      }
      const delay = backoffDelay(attempt, backoff, random);
      log(
        `events: webhook ${options.url} ${failure} for ${id} (attempt ${attempt}); retrying in ${formatMs(delay)}`,
      );
      await sleep(delay, signal);
    }
    return false;
  }

  function settle(size: number): void {
    for (const waiter of waiters.filter((w) => w.until <= offset || w.until > size)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  }

  async function run(): Promise<void> {
    offset = await readOffset(offsetFile);
    while (!signal.aborted) {
      try {
        const size = await sizeOf(file);
        if (size < offset) {
          log(`events: ${file} is shorter than ${offsetFile} says; delivering it from its start`);
          offset = 0;
          await writeFileAtomic(offsetFile, '0\n');
        }
        const next = offset < size ? await nextLine(size) : undefined;
        if (!next) {
          settle(size);
          await sleep(pollIntervalMs, signal);
          continue;
        }
        if (next.line.trim() && !(await deliver(next.line))) break;
        offset += next.bytes;
        await writeFileAtomic(offsetFile, `${offset}\n`);
      } catch (error) {
        if (signal.aborted) break;
        const delay = backoffDelay(1, backoff, random);
        log(
          `events: webhook delivery cannot read ${file}: ${messageOf(error)}; retrying in ${formatMs(delay)}`,
        );
        await sleep(delay, signal);
      }
    }
  }

  const running = run().catch((error) => log(`events: the webhook deliverer stopped: ${messageOf(error)}`));

  return {
    stop: async () => {
      stopper.abort();
      await running;
      for (const waiter of waiters.splice(0)) waiter.resolve();
    },
    delivered: async () => {
      const size = await sizeOf(file);
      if (size === 0) return;
      // Up to the last complete line at this moment.
      const handle = await open(file, 'r');
      let until = size;
      try {
        const tail = Buffer.alloc(Math.min(size, READ_CHUNK));
        await handle.read(tail, 0, tail.length, size - tail.length);
        until = size - tail.length + tail.lastIndexOf(0x0a) + 1;
      } finally {
        await handle.close();
      }
      // Settled by the loop when it is idle, i.e. past the offset check and every complete line.
      await new Promise<void>((resolve) => waiters.push({ until, resolve }));
    },
  };
}

async function readOffset(file: string): Promise<number> {
  try {
    const offset = Number((await readFile(file, 'utf8')).trim());
    return Number.isSafeInteger(offset) && offset >= 0 ? offset : 0;
  } catch {
    return 0;
  }
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return 0;
    throw error;
  }
}

/** "ECONNREFUSED", "timeout", or the message: the reason of a failed fetch, short. */
function causeOf(error: unknown): string {
  const name = (error as { name?: string }).name;
  if (name === 'TimeoutError') return 'timed out';
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? messageOf(error);
}
