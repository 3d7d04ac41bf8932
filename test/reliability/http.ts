import { readFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

/** The shipped contract, as clients read it (not rebuilt from the manifest). */
// biome-ignore lint/suspicious/noExplicitAny: the document is walked generically
export const openApi: Record<string, any> = JSON.parse(readFileSync('docs/openapi.json', 'utf8'));

/** One ajv over the whole document: every schema is a JSON pointer into it. */
export const ajv = new Ajv2020({ strict: false, allErrors: false });
// ajv-formats is CommonJS: its function is the default export's `default`.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv2020,
) => void;
addFormats(ajv);
ajv.addSchema(openApi, 'openapi');

export const pointer = (...parts: (string | number)[]) =>
  `openapi#/${parts.map((part) => String(part).replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;

const validateProblem = ajv.getSchema(pointer('components', 'schemas', 'Problem'));
if (!validateProblem) throw new Error('docs/openapi.json has no components.schemas.Problem');

export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/**
 * What is wrong with an answer, if anything: a 5xx, or an error that is not an RFC 9457 problem
 * (application/problem+json, valid against the document's Problem schema, `status` = the HTTP status).
 */
export function answerDefects(answer: HttpAnswer): string[] {
  const defects: string[] = [];
  if (answer.status >= 500) defects.push(`status ${answer.status}`);
  if (answer.status < 400) return defects;
  const media = answer.headers['content-type']?.split(';')[0]?.trim();
  if (media !== 'application/problem+json') defects.push(`error media type ${media ?? '(none)'}`);
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    defects.push('error body is not JSON');
    return defects;
  }
  if (!validateProblem?.(body))
    defects.push(`not a Problem: ${ajv.errorsText(validateProblem?.errors, { dataVar: 'problem' })}`);
  else if ((body as { status: unknown }).status !== answer.status)
    defects.push(`problem.status ${(body as { status: unknown }).status} ≠ HTTP ${answer.status}`);
  return defects;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

export interface HttpCall {
  method: string;
  /** Sent byte for byte: node:http, unlike fetch, neither resolves `..` nor re-encodes it. */
  path: string;
  headers: Record<string, string>;
  body?: Buffer | undefined;
}

/** One request through node:http; a transport failure rejects (it is never an answer). */
export function send(baseUrl: string, call: HttpCall): Promise<HttpAnswer> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: call.method,
        path: call.path,
        agent,
        headers: { ...call.headers, ...(call.body ? { 'content-length': String(call.body.length) } : {}) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: flatten(response.headers),
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(call.body);
  });
}

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  return flat;
}

/**
 * One request written on a socket as given (fetch and node:http refuse CR, LF and NUL in headers),
 * read to the end of the connection; the answer's body is de-chunked if need be.
 */
export async function sendRaw(baseUrl: string, bytes: Buffer, timeoutMs = 15_000): Promise<HttpAnswer> {
  const { hostname, port } = new URL(baseUrl);
  const received = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname === 'localhost' ? '127.0.0.1' : hostname, () =>
      socket.end(bytes),
    );
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => resolve(Buffer.concat(chunks)));
    // The server may close while we still write (it answered early): keep what it said.
    socket.on('error', (error: NodeJS.ErrnoException) =>
      chunks.length > 0 && error.code === 'ECONNRESET' ? resolve(Buffer.concat(chunks)) : reject(error),
    );
  });
  const split = received.indexOf('\r\n\r\n');
  if (split < 0) throw new Error(`not an HTTP answer: ${JSON.stringify(received.toString('latin1'))}`);
  const [statusLine = '', ...lines] = received.subarray(0, split).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = received.subarray(split + 4);
  if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
  return { status: Number(statusLine.split(' ')[1]), headers, text: body.toString('utf8') };
}

function dechunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', at);
    if (lineEnd < 0) break;
    const length = Number.parseInt(body.subarray(at, lineEnd).toString('latin1'), 16);
    if (!(length > 0)) break;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + length));
    at = lineEnd + 2 + length + 2;
  }
  return Buffer.concat(parts);
}
