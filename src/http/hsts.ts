import type { RequestHandler } from 'express';

/** One year; browsers then refuse plain HTTP to this host without asking the server first. */
const HSTS = 'max-age=31536000';

/** Loopback names: HSTS on them would follow a developer to every other local service. */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/**
 * Strict-Transport-Security for a node that serves HTTPS itself with a real certificate. Behind
 * the compose proxy, Caddy sets it instead; with a self-signed certificate it is never sent,
 * since a host with HSTS no longer lets a user click through the certificate warning.
 */
export function hsts(): RequestHandler {
  return (req, res, next) => {
    if (req.secure && !LOOPBACK.has(req.hostname)) res.setHeader('Strict-Transport-Security', HSTS);
    next();
  };
}
