import { readFileSync } from 'node:fs';
import { type RouteSpec, routeGroups, routes } from '../routes/manifest.ts';
import { buildOpenApiDocument } from './document.ts';

/** docs/openapi.json as `npm run openapi` writes it: the package's version, two-space JSON. */
export function openApiFileText(): string {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return `${JSON.stringify(buildOpenApiDocument(version), null, 2)}\n`;
}

const BEGIN = '<!-- routes:begin -->';
const END = '<!-- routes:end -->';

/** The route index of docs/api.md (between its markers), one table per route group. */
export function routeIndex(): string {
  const sections = Object.entries(routeGroups).map(([group, spec]) => {
    const rows = (routes as readonly RouteSpec[])
      .filter((route) => route.group === group)
      .map((route) => {
        const access =
          route.access === 'public'
            ? 'public'
            : `${route.access.roles.join(', ')}${route.access.scope ? ` (${route.access.scope})` : ''}`;
        return `| \`${route.method} ${route.path}\` | ${route.summary.replaceAll('|', '\\|')} | ${access} |`;
      });
    return [
      `### ${group}: ${spec.description}`,
      '',
      '| route | what it does | who |',
      '|---|---|---|',
      ...rows,
    ].join('\n');
  });
  return `${BEGIN}\n${sections.join('\n\n')}\n${END}`;
}

/** docs/api.md with its route index as the manifest has it now. */
export function apiReferenceText(current: string): string {
  const start = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  if (start < 0 || end < start) throw new Error('docs/api.md has no routes:begin / routes:end markers');
  return `${current.slice(0, start)}${routeIndex()}${current.slice(end + END.length)}`;
}
