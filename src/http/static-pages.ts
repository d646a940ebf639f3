import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type RequestHandler, type Response } from 'express';
import { isLanguage, SOURCE_LANGUAGE } from '../shared/i18n/languages.js';
import { pageLanguageOf } from './page-shell.js';
import { homePage } from './home-page.js';
import { webManifest } from './web-manifest.js';

/**
 * Only this origin for scripts, styles, sockets and media; data:/blob: images for the QR canvas
 * and the selfie preview. Inline scripts are refused: the pages load bundled files only.
 */
const PAGE_DIRECTIVES = {
  'default-src': "'self'",
  'script-src': "'self'",
  'style-src': "'self'",
  'img-src': "'self' data: blob:",
  'media-src': "'self' blob: mediastream:",
  'connect-src': "'self'",
  'object-src': "'none'",
  'base-uri': "'self'",
  'form-action': "'self'",
  'frame-ancestors': "'none'",
} as const;

/** The pages' policy with some of its directives changed (the API docs page's styles). */
export function contentSecurityPolicy(changed: Partial<Record<keyof typeof PAGE_DIRECTIVES, string>> = {}): string {
  return Object.entries({ ...PAGE_DIRECTIVES, ...changed })
    .map(([name, value]) => `${name} ${value}`)
    .join('; ');
}

export const PAGE_CSP = contentSecurityPolicy();

/** Geolocation and the camera for this origin only; everything else the pages never use stays off. */
const PERMISSIONS_POLICY = 'geolocation=(self), camera=(self), microphone=(), payment=(), usb=()';

/** Prefixes served by other handlers; the pages must never answer for them. */
const RESERVED = ['/api', '/healthz', '/readyz', '/socket.io'];

/**
 * dist/public next to package.json whether this file runs from src/http (tsx) or
 * dist/src/http (compiled); null when the pages were not built.
 */
export function defaultPublicDir(): string | null {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const candidate of [path.resolve(here, '../../dist/public'), path.resolve(here, '../../public')]) {
    if (existsSync(path.join(candidate, 'index.html'))) return candidate;
  }
  return null;
}

function pageHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', PAGE_CSP);
  res.setHeader('Permissions-Policy', PERMISSIONS_POLICY);
  res.setHeader('Referrer-Policy', 'same-origin');
  // File names are not content-hashed, so every load revalidates (ETag makes that a 304).
  res.setHeader('Cache-Control', 'no-cache');
}

/** Content types of the files built with .br and .gz siblings (scripts/build-web.ts). */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.webmanifest': 'application/manifest+json',
};

/** The encodings this request accepts, read from Accept-Encoding (`q=0` refuses one). */
function acceptedEncodings(header: string | undefined): Set<string> {
  const accepted = new Set<string>();
  for (const part of (header ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    if (name && (q === undefined || Number(q) > 0)) accepted.add(name);
  }
  return accepted;
}

/**
 * The precompressed sibling of the requested file the browser accepts (brotli, else gzip), or
 * null: the file as it is. `built` lists the folder's files, read once at start.
 */
function compressedVariant(
  requestPath: string,
  header: string | undefined,
  built: ReadonlySet<string>,
): { file: string; encoding: string; type: string } | null {
  const name = requestPath === '/' ? 'index.html' : requestPath.slice(1);
  const type = TYPES[path.extname(name)];
  if (!type || name.includes('/')) return null;
  const accepted = acceptedEncodings(header);
  for (const [encoding, suffix] of [
    ['br', '.br'],
    ['gzip', '.gz'],
  ] as const) {
    if (accepted.has(encoding) && built.has(name + suffix)) return { file: `/${name}${suffix}`, encoding, type };
  }
  return null;
}

/** Serves the built pages at / (index.html lists them); reserved prefixes fall through untouched. */
export function staticPages(dir: string): RequestHandler {
  const built = new Set(readdirSync(dir));
  const manifest = built.has('manifest.webmanifest') ? readFileSync(path.join(dir, 'manifest.webmanifest'), 'utf8') : null;
  const serve = express.static(dir, {
    index: 'index.html',
    etag: true,
    lastModified: true,
    redirect: false,
    fallthrough: true,
    setHeaders: pageHeaders,
  });
  return (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (RESERVED.some((p) => req.path === p || req.path.startsWith(`${p}/`))) return next();
    // Caches keep one copy per encoding, whichever this answer is.
    if (TYPES[path.extname(req.path === '/' ? 'index.html' : req.path)]) res.setHeader('Vary', 'Accept-Encoding');
    if (req.path === '/' || req.path === '/index.html') {
      // The built home page is English; a browser preferring another shipped language gets it written in that one.
      res.vary('Accept-Language');
      const language = pageLanguageOf(req);
      if (language !== SOURCE_LANGUAGE) {
        pageHeaders(res);
        res.type('html').send(homePage(language));
        return;
      }
    }
    if (req.path === '/manifest.webmanifest' && manifest !== null) {
      // The name under the installed icon: the built file is English, another shipped language is
      // written here. The pages link it with their own language (`?lang=`, the signed-in user's
      // choice), an answer that is the same for every browser; a link without it (an older page,
      // a direct fetch) gets the browser's, so caches keep one per Accept-Language.
      const asked = req.query['lang'];
      if (!isLanguage(asked)) res.vary('Accept-Language');
      const language = isLanguage(asked) ? asked : pageLanguageOf(req);
      if (language !== SOURCE_LANGUAGE) {
        pageHeaders(res);
        res.type(TYPES['.webmanifest']!).send(webManifest(manifest, language));
        return;
      }
    }
    const variant = compressedVariant(req.path, req.headers['accept-encoding'], built);
    if (!variant) return serve(req, res, next);
    // The type of the page file, not of .br/.gz (send keeps a Content-Type already set).
    res.setHeader('Content-Type', variant.type);
    res.setHeader('Content-Encoding', variant.encoding);
    const url = req.url;
    req.url = variant.file + (url.includes('?') ? url.slice(url.indexOf('?')) : '');
    serve(req, res, (err?: unknown) => {
      // The sibling listed at start is gone (the pages rebuilt under a running server): the file
      // as it is, and no encoding left on whatever answers instead (a 404 marked brotli is unreadable).
      res.removeHeader('Content-Type');
      res.removeHeader('Content-Encoding');
      req.url = url;
      if (err !== undefined) return next(err);
      serve(req, res, next);
    });
  };
}
