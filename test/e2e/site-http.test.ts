import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { siteFiles } from '../../lambdas/site/files.ts';
import { startTestApi, type TestApi } from '../support/api.ts';

let api: TestApi;
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(() => api.close());

describe('the site routes', () => {
  it('serve /docs and /console as HTML with a same-origin Content-Security-Policy, no key needed', async () => {
    for (const [path, title] of [
      ['/docs', 'Reference'],
      ['/console', 'Finance console'],
    ] as const) {
      const page = await api.request('GET', path, { key: null });
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(page.headers.get('content-security-policy')).toContain("connect-src 'self'");
      expect(page.headers.get('x-request-id')).toBeTruthy();
      expect(page.text).toContain(title);
      expect(page.text).not.toMatch(/https?:\/\//); // nothing from a CDN
    }
  });

  it('serve each asset byte for byte, gzipped when asked for', async () => {
    for (const name of ['console.js', 'chart.js', 'scalar.js'] as const) {
      const plain = await api.request('GET', `/assets/${name}`, {
        key: null,
        headers: { 'accept-encoding': 'identity' },
      });
      expect(plain.status).toBe(200);
      expect(plain.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(plain.text).toBe(readFileSync(siteFiles[name].source, 'utf8'));
    }
    // Sent gzipped (under a third of the bytes); fetch decodes it back to the same file.
    const response = await fetch(`${api.url}/assets/scalar.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(response.headers.get('content-encoding')).toBe('gzip');
    const raw = readFileSync(siteFiles['scalar.js'].source);
    expect(Number(response.headers.get('content-length'))).toBeLessThan(raw.length / 3);
    expect(await response.text()).toBe(raw.toString('utf8'));
  });

  it('answer an unknown asset with a 404 problem, and never serve files by path', async () => {
    for (const file of ['nope.js', '..%2Fpackage.json', 'docs.html', '%2e%2e%2f%2e%2e%2fpackage.json']) {
      const response = await api.request('GET', `/assets/${file}`, { key: null });
      expect(response.status, file).toBe(404);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
      expect(response.json.type).toBe('/problems/not-found');
    }
  });
});
