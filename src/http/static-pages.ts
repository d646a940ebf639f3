import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type RequestHandler, type Response } from 'express';

/**
 * Only this origin for scripts, styles, sockets and media; data:/blob: images for the QR canvas
 * and the selfie preview. Inline scripts are refused: the pages load bundled files only.
 */
export const PAGE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob: mediastream:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

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

/** Serves the built pages at / (index.html lists them); reserved prefixes fall through untouched. */
export function staticPages(dir: string): RequestHandler {
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
    serve(req, res, next);
  };
}
