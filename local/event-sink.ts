/**
 * The local end of the event publisher: each event appended as one JSON line to
 * `<dataDir>/events.ndjson`, where the AWS handler would put it on EventBridge. The file is only ever
 * appended to by one writer (the stream poller of `npm start`); the webhook deliverer reads it.
 */
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { appendFile, open, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EventSink } from '../lambdas/handlers/event-publisher.ts';

export const EVENTS_FILE = 'events.ndjson';

/** One line of a log, without throwing: a local background task reports and carries on. */
export type LogLine = (line: string) => void;

export interface FileEventSinkOptions {
  /**
   * How many event ids of the file's end are remembered, so an event the poller hands over again
   * after a crash between the append and the checkpoint is not appended twice. The crash window is
   * one GetRecords batch (at most 1,000 records), so the default leaves a wide margin.
   */
  rememberIds?: number;
  log?: LogLine;
}

export interface FileEventSink {
  readonly file: string;
  /** Appends the events not seen yet, in order, and syncs them to disk before it resolves. */
  readonly sink: EventSink;
  /** Whether an event id is among the remembered ones (tests). */
  has(id: string): boolean;
}

/** A bounded set: the most recent `limit` ids, oldest forgotten first. */
class RecentIds {
  private readonly ids = new Set<string>();
  private readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }
  has(id: string): boolean {
    return this.ids.has(id);
  }
  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.limit) {
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
  }
}

/**
 * Opens (and creates) `<dataDir>/events.ndjson` for appending. A line torn by a crash in the middle
 * of an append is cut off first: its event was not checkpointed, so the poller appends it again.
 */
export function openFileEventSink(dataDir: string, options: FileEventSinkOptions = {}): FileEventSink {
  const log = options.log ?? (() => {});
  const limit = options.rememberIds ?? 10_000;
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, EVENTS_FILE);
  const recent = new RecentIds(limit);
  const torn = repairTornTail(file);
  if (torn > 0) log(`events: cut ${torn} bytes of an unfinished line off the end of ${file}`);
  for (const id of idsAtEnd(file, limit)) recent.add(id);

  const sink: EventSink = async (events) => {
    let lines = '';
    const added = new Set<string>();
    for (const { event } of events) {
      if (recent.has(event.id) || added.has(event.id)) continue;
      lines += `${JSON.stringify(event)}\n`;
      added.add(event.id);
    }
    if (!lines) return [];
    try {
      const handle = await open(file, 'a');
      try {
        await handle.appendFile(lines);
        await handle.datasync();
      } finally {
        await handle.close();
      }
    } catch (error) {
      log(`events: cannot append to ${file}: ${messageOf(error)}`);
      // Nothing is checkpointed: the poller reads these records again, and the ids of whatever part
      // did reach the file are found at its end when it is reopened.
      return events.map((item) => item.sequenceNumber);
    }
    for (const id of added) recent.add(id);
    return [];
  };

  return { file, sink, has: (id) => recent.has(id) };
}

/** Cuts a final line without its newline off the file; returns how many bytes were cut. */
function repairTornTail(file: string): number {
  if (!existsSync(file)) return 0;
  const size = statSync(file).size;
  if (size === 0) return 0;
  const fd = openSync(file, 'r+');
  try {
    const end = lastNewlineBefore(fd, size);
    const keep = end === -1 ? 0 : end + 1;
    if (keep < size) ftruncateSync(fd, keep);
    return size - keep;
  } finally {
    closeSync(fd);
  }
}

/** The position of the last '\n' before `size`, or -1. */
function lastNewlineBefore(fd: number, size: number): number {
  const chunk = Buffer.alloc(64 * 1024);
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - chunk.length);
    const length = readSync(fd, chunk, 0, end - start, start);
    const at = chunk.subarray(0, length).lastIndexOf(0x0a);
    if (at !== -1) return start + at;
    end = start;
  }
  return -1;
}

/** The ids of the last `count` lines of the file, oldest first (read backwards, never the whole file). */
function idsAtEnd(file: string, count: number): string[] {
  if (!existsSync(file) || count <= 0) return [];
  const fd = openSync(file, 'r');
  try {
    const size = statSync(file).size;
    const chunks: Buffer[] = [];
    let newlines = 0;
    let start = size;
    while (start > 0 && newlines <= count) {
      const length = Math.min(1024 * 1024, start);
      start -= length;
      const chunk = Buffer.alloc(length);
      readSync(fd, chunk, 0, length, start);
      for (const byte of chunk) if (byte === 0x0a) newlines += 1;
      chunks.unshift(chunk);
    }
    const lines = Buffer.concat(chunks).toString('utf8').split('\n');
    if (start > 0) lines.shift(); // the first line read is a part of a line
    const ids: string[] = [];
    for (const line of lines.slice(-count - 1)) {
      const id = idOfLine(line);
      if (id) ids.push(id);
    }
    return ids.slice(-count);
  } finally {
    closeSync(fd);
  }
}

/** The `id` of an event line, or undefined for a blank or unreadable line. */
export function idOfLine(line: string): string | undefined {
  if (!line.trim()) return undefined;
  try {
    const parsed = JSON.parse(line) as { id?: unknown };
    return typeof parsed.id === 'string' ? parsed.id : undefined;
  } catch {
    return undefined;
  }
}

/** Replaces a small file atomically (write aside, then rename), so a crash leaves the old or the new. */
export async function writeFileAtomic(file: string, content: string): Promise<void> {
  const aside = `${file}.${process.pid}.tmp`;
  await writeFile(aside, content);
  await rename(aside, file);
}

/** Appends one line to a side file (records that could not become events), logging any failure. */
export async function appendLine(file: string, line: string, log: LogLine): Promise<void> {
  try {
    await appendFile(file, `${line}\n`);
  } catch (error) {
    log(`events: cannot append to ${file}: ${messageOf(error)}`);
  }
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message;
    return detail && !error.message.includes(detail) ? `${error.message} (${detail})` : error.message;
  }
  return String(error);
}
