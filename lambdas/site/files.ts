/**
 * The static files of `/docs` and `/console`: the pages and scripts in this folder and two browser
 * bundles from npm (no CDN). CDK copies each next to the site function's bundle under `site/`; the
 * local server reads them where they are.
 */
export interface SiteFile {
  /** Path from the repository root. */
  source: string;
  contentType: string;
}

export const siteFiles = {
  'docs.html': { source: 'lambdas/site/docs.html', contentType: 'text/html; charset=utf-8' },
  'console.html': { source: 'lambdas/site/console.html', contentType: 'text/html; charset=utf-8' },
  'docs.js': { source: 'lambdas/site/docs.js', contentType: 'text/javascript; charset=utf-8' },
  'console.js': { source: 'lambdas/site/console.js', contentType: 'text/javascript; charset=utf-8' },
  'site.css': { source: 'lambdas/site/site.css', contentType: 'text/css; charset=utf-8' },
  'scalar.js': {
    source: 'node_modules/@scalar/api-reference/dist/browser/standalone.js',
    contentType: 'text/javascript; charset=utf-8',
  },
  'chart.js': {
    source: 'node_modules/chart.js/dist/chart.umd.min.js',
    contentType: 'text/javascript; charset=utf-8',
  },
} as const satisfies Record<string, SiteFile>;

export type SiteFileName = keyof typeof siteFiles;

/** What `GET /assets/{file}` serves (the pages have routes of their own). */
export const assetNames = [
  'docs.js',
  'console.js',
  'site.css',
  'scalar.js',
  'chart.js',
] as const satisfies readonly SiteFileName[];
