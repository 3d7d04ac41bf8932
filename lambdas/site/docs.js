// The interactive reference over this deployment's own /openapi.json. Scalar's bundle comes from
// npm and is served by this API; its default web fonts and proxy (both on scalar.com) stay off,
// and the page's Content-Security-Policy would refuse them anyway.
globalThis.Scalar.createApiReference('#reference', {
  url: '/openapi.json',
  withDefaultFonts: false,
  telemetry: false,
  // The reference of this API only: no links into scalar.com's hosted services.
  showDeveloperTools: 'never',
  agent: { disabled: true },
  servers: [{ url: globalThis.location.origin, description: 'This deployment' }],
  metaData: { title: 'Loyalty rewards API · Reference' },
});
