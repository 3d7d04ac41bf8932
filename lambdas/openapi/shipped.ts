import { existsSync, readFileSync } from 'node:fs';
import type { HttpMethod } from '../routes/spec.ts';

/** What the functions that carry no schemas take from docs/openapi.json. */
export interface ShippedDocument {
  /** The document, compact. */
  text: string;
  version: string;
  /** Every route the document lists (the manifest's, as `npm run openapi` wrote them). */
  routes: { method: HttpMethod; path: string }[];
}

let loaded: Promise<ShippedDocument> | undefined;

/**
 * On Lambda, docs/openapi.json ships next to the bundle (CDK copies it; a test keeps it current),
 * so health and the fallback carry neither zod nor the schemas, nor the AWS SDK. Run from source
 * (`npm start`, the tests) it is built from the manifest: always the code's own.
 */
export function shippedDocument(): Promise<ShippedDocument> {
  loaded ??= load();
  return loaded;
}

async function load(): Promise<ShippedDocument> {
  const bundled = new URL('./openapi.json', import.meta.url);
  let text: string;
  if (existsSync(bundled)) text = readFileSync(bundled, 'utf8');
  else {
    // A variable specifier: esbuild leaves the module (and zod with it) out of the bundle.
    const source = '../openapi/file.ts';
    const { openApiFileText } = (await import(source)) as { openApiFileText: () => string };
    text = openApiFileText();
  }
  const document = JSON.parse(text) as {
    info: { version: string };
    paths: Record<string, Record<string, unknown>>;
  };
  const routes = Object.entries(document.paths).flatMap(([path, operations]) =>
    Object.keys(operations)
      .filter((key) => HTTP_METHODS.has(key))
      .map((method) => ({ method: method.toUpperCase() as HttpMethod, path })),
  );
  return { text: JSON.stringify(document), version: document.info.version, routes };
}

const HTTP_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);
