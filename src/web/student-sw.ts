/**
 * The student page's service worker (dist/public/student-sw.js, scope student.html): an offline
 * reload shows the page, saying it is offline, instead of the browser's error page. It keeps the
 * page's own files only, never an API answer, a socket, a token or the address's query (a join
 * token, a code). Network first: online, every file comes from the server as without it (a
 * deploy shows at once), and only a failed fetch falls back on the copy. The build writes the
 * version into the file (scripts/build-web.ts), so a deploy that changes a file changes this one:
 * the browser installs it and the old copies are deleted.
 *
 * Compiled with the pages' DOM types: the worker's own are declared below.
 */

/** The build's digest of the files below. */
declare const SHELL_VERSION: string;
/** What the page needs to start: fetched at install. */
declare const SHELL_FILES: readonly string[];
/** Another language's catalogs: kept at install only when this browser already loaded them. */
declare const SHELL_OPTIONAL: readonly string[];

interface ExtendableEvent extends Event {
  waitUntil(work: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  readonly preloadResponse: Promise<Response | undefined>;
  respondWith(answer: Promise<Response>): void;
}
interface WorkerScope {
  readonly location: { readonly href: string; readonly origin: string };
  readonly registration: { readonly navigationPreload?: { enable(): Promise<void> } };
  readonly clients: { claim(): Promise<void> };
  skipWaiting(): Promise<void>;
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEvent) => void): void;
  addEventListener(type: 'fetch', listener: (event: FetchEvent) => void): void;
}

const worker = self as unknown as WorkerScope;
const PREFIX = 'student-shell-';
const CACHE = `${PREFIX}${SHELL_VERSION}`;

/** A file's address beside this script (the pages' folder, under any path prefix). */
const beside = (file: string) => new URL(file, worker.location.href).href;
const KEPT = new Set([...SHELL_FILES, ...SHELL_OPTIONAL].map(beside));

/** The copy's key of a request: the file's address without its query, or null for anything not kept. */
function keyOf(request: Request): string | null {
  if (request.method !== 'GET') return null;
  const url = new URL(request.url);
  url.search = '';
  url.hash = '';
  return url.origin === worker.location.origin && KEPT.has(url.href) ? url.href : null;
}

async function install(): Promise<void> {
  const cache = await caches.open(CACHE);
  await cache.addAll(SHELL_FILES.map(beside));
  await Promise.all(
    SHELL_OPTIONAL.map(async (file) => {
      // 'only-if-cached' never goes to the network: a catalog this browser never loaded is a
      // refusal here, and is kept the first time the page fetches it online.
      const answer = await fetch(beside(file), { cache: 'only-if-cached', mode: 'same-origin' }).catch(() => null);
      if (answer?.ok) await cache.put(beside(file), answer);
    }),
  );
  await worker.skipWaiting();
}

async function activate(): Promise<void> {
  // A deploy's worker deletes the previous build's copies.
  const names = await caches.keys();
  await Promise.all(names.filter((n) => n.startsWith(PREFIX) && n !== CACHE).map((n) => caches.delete(n)));
  // The page's request is sent while the worker starts, so a visit online is not slower for it.
  await worker.registration.navigationPreload?.enable();
  await worker.clients.claim();
}

async function networkFirst(event: FetchEvent, key: string): Promise<Response> {
  try {
    const answer = (await event.preloadResponse) ?? (await fetch(event.request));
    if (answer.ok && answer.type === 'basic') {
      const copy = answer.clone();
      event.waitUntil(caches.open(CACHE).then((cache) => cache.put(key, copy)));
    }
    return answer;
  } catch (err) {
    const kept = await caches.match(key, { cacheName: CACHE });
    if (kept) return kept;
    throw err;
  }
}

worker.addEventListener('install', (event) => event.waitUntil(install()));
worker.addEventListener('activate', (event) => event.waitUntil(activate()));
worker.addEventListener('fetch', (event) => {
  const key = keyOf(event.request);
  // Not answered here: the API, the socket, uploads and every other page go to the network untouched.
  if (key !== null) event.respondWith(networkFirst(event, key));
});
