import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apiReferenceText, openApiFileText } from '../../lambdas/openapi/file.ts';
import { routes } from '../../lambdas/routes/manifest.ts';

describe('docs/openapi.json', () => {
  it('is what `npm run openapi` writes from the manifest now (run it after changing a route)', () => {
    expect(readFileSync('docs/openapi.json', 'utf8')).toBe(openApiFileText());
    const reference = readFileSync('docs/api.md', 'utf8');
    expect(reference).toBe(apiReferenceText(reference));
    for (const route of routes) expect(reference).toContain(`\`${route.method} ${route.path}\``);
  });

  it('lists only the statuses each operation can answer, its media types and headers', () => {
    const doc = JSON.parse(openApiFileText());
    expect(doc.tags.map((tag: { name: string }) => tag.name)).toContain('campaigns');
    expect(doc.servers[0].url).toBe('http://localhost:3000');
    const health = doc.paths['/v1/health'].get;
    expect(Object.keys(health.responses)).toEqual(['200']);
    const list = doc.paths['/v1/campaigns'].get;
    expect(Object.keys(list.responses).sort()).toEqual(['200', '400', '401', '403', '429', '503']);
    const earn = doc.paths['/v1/members/{memberId}/earn'].post;
    expect(Object.keys(earn.responses)).toEqual(
      expect.arrayContaining(['201', '400', '404', '409', '410', '413', '415', '422', '429']),
    );
    expect(earn.responses['201'].headers).toHaveProperty('Idempotent-Replayed');
    expect(earn.responses['429'].headers).toHaveProperty('Retry-After');
    const settlement = doc.paths['/v1/reports/settlement'].get;
    expect(Object.keys(settlement.responses['200'].content).sort()).toEqual(['application/json', 'text/csv']);
    for (const route of routes) {
      const operation = doc.paths[route.path][route.method.toLowerCase()];
      expect(operation.description, route.operationId).toEqual(expect.any(String));
      if (route.method === 'GET') expect(operation.responses, route.operationId).not.toHaveProperty('415');
    }
  });
});
