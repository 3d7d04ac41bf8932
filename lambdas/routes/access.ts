/** Who may call a route: the role lists the manifest's routes share. */
export const ADMIN = ['admin'] as const;
export const ANY_ROLE = ['admin', 'partner', 'finance'] as const;
export const ADMIN_PARTNER = ['admin', 'partner'] as const;
export const REPORT_READERS = ['admin', 'finance', 'partner'] as const;
export const FINANCE = ['admin', 'finance'] as const;
