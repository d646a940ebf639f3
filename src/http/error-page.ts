import type { Request } from 'express';

/** Prefixes whose clients are programs: they always get the JSON error body. */
const API_PREFIXES = ['/api', '/healthz', '/readyz', '/metrics', '/socket.io'];

/**
 * A browser asking for a page (GET/HEAD, HTML accepted, not an API path) gets a page in words;
 * everything else keeps the coded JSON error.
 */
export function wantsHtmlPage(req: Request): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (API_PREFIXES.some((p) => req.path === p || req.path.startsWith(`${p}/`))) return false;
  return req.accepts(['json', 'html']) === 'html' && Boolean(req.get('accept')?.includes('text/html'));
}

/** Text put in a page, escaped. */
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The page itself: no script, the site's stylesheet, links to every page. It may answer any
 * depth of path, so its links start with `basePath` (config.basePath) rather than being relative.
 */
export function errorPage(status: number, heading: string, text: string, basePath: string): string {
  const b = escapeHtml(basePath);
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${escapeHtml(heading)} · Classroom attendance</title>
  <link rel="icon" href="${b}/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="${b}/styles.css">
</head>
<body>
  <main class="narrow">
    <h1>${escapeHtml(heading)}</h1>
    <p>${escapeHtml(text)}</p>
    <p class="muted">Error ${status}.</p>
    <h2>Pages</h2>
    <ul class="page-links">
      <li><a href="${b}/">Home</a></li>
      <li><a href="${b}/student.html">Student check-in</a></li>
      <li><a href="${b}/teacher.html">Teacher console</a></li>
      <li><a href="${b}/classroom.html">Classroom screen</a></li>
      <li><a href="${b}/admin.html">Admin console</a></li>
      <li><a href="${b}/reports.html">Attendance reports</a></li>
    </ul>
  </main>
</body>
</html>
`;
}
