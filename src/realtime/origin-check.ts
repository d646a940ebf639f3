import type { IncomingMessage } from 'node:http';

/**
 * Whether a Socket.IO request may proceed, judged by its Origin header. A browser sends Origin
 * on every WebSocket upgrade and polling request, and a page of another site could otherwise
 * open sockets here from a visitor's browser (cross-site WebSocket hijacking): it is refused
 * unless it is this site itself (the Host the request was sent to) or listed in CORS_ORIGINS.
 * Requests without Origin are not from a browser page (native apps, scripts, server-side
 * clients); they still need a valid token like every other connection.
 */
export function originAllowed(req: Pick<IncomingMessage, 'headers'>, allowed: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  const host = req.headers.host;
  // Sandboxed frames and file pages send the literal "null": never this site.
  return host !== undefined && URL.canParse(origin) && new URL(origin).host === host.toLowerCase();
}
