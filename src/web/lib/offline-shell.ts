/**
 * The student page kept for an offline reload (its service worker, src/web/student-sw.ts), and
 * what the page says while the phone has no network.
 */
import { byId, show } from './dom.js';

/**
 * Registers student-sw.js for this page only (scope student.html). Called once the page is
 * usable: the worker's install fetches the page's files again (answered by the HTTP cache or a
 * 304), which must not compete with the first visit's own requests on a slow link.
 */
export function keepPageForOffline(): void {
  // Browsers offer service workers in a secure context only (HTTPS, or localhost).
  if (!window.isSecureContext || !('serviceWorker' in navigator)) return;
  navigator.serviceWorker
    .register('student-sw.js', { scope: 'student.html' })
    // The page works as before without it; only an offline reload shows the browser's error page.
    .catch((err: unknown) => console.warn('the page is not kept for offline use', err));
}

/** #offline-note shown while the browser has no network, from the start and at each change. */
export function bindOfflineNote(): void {
  const note = byId('offline-note');
  const follow = () => show(note, !navigator.onLine);
  follow();
  window.addEventListener('online', follow);
  window.addEventListener('offline', follow);
}
