/** Match a concrete path against route templates (`/v1/members/{memberId}`): each match and its parameters. */
export function matchRoutes<R extends { path: string }>(
  routes: readonly R[],
  path: string,
): { route: R; params: Record<string, string> }[] {
  const matches: { route: R; params: Record<string, string> }[] = [];
  const segments = path.split('/');
  for (const route of routes) {
    const template = route.path.split('/');
    if (template.length !== segments.length) continue;
    const params: Record<string, string> = {};
    const ok = template.every((part, i) => {
      const actual = segments[i] ?? '';
      if (part.startsWith('{') && part.endsWith('}')) {
        const value = safeDecode(actual);
        if (value === undefined || value === '') return false;
        params[part.slice(1, -1)] = value;
        return true;
      }
      return part === actual;
    });
    if (ok) matches.push({ route, params });
  }
  return matches;
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined; // a malformed %-escape matches nothing: 404, never a 500
  }
}
