/**
 * `npm run openapi`: writes docs/openapi.json (the document the API serves at /openapi.json) and
 * the route index of docs/api.md, so both can be read (and diffed in review) without running
 * anything. A test fails when either is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { apiReferenceText, openApiFileText } from '../lambdas/openapi/file.ts';

const docs = (name: string) => fileURLToPath(new URL(`../docs/${name}`, import.meta.url));
writeFileSync(docs('openapi.json'), openApiFileText());
writeFileSync(docs('api.md'), apiReferenceText(readFileSync(docs('api.md'), 'utf8')));
console.log('wrote docs/openapi.json and the route index of docs/api.md');
