/**
 * Whether the node itself serves HTTPS (TLS_CERT_FILE/TLS_KEY_FILE, or TLS_SELF_SIGNED=true in
 * development). A deployment usually terminates TLS at the proxy instead (docs/deploy.md).
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { createSecureContext } from 'node:tls';
import { readFileSync } from 'node:fs';
import { developmentCertificate } from './dev-certificate.js';
import { createSelfSignedCertificate } from './self-signed.js';

export interface TlsConfig {
  cert: string;
  key: string;
  /**
   * A generated development certificate. Browsers let a user click through its warning only
   * while the host has no HSTS, so HSTS is sent only with real certificate files.
   */
  selfSigned: boolean;
  /** Where the certificate is (the generated one too); null when kept in memory (tests). */
  certFile: string | null;
}

export interface TlsOptions {
  certFile: string | undefined;
  keyFile: string | undefined;
  selfSigned: boolean;
  env: 'development' | 'production' | 'test';
  dataDir: string;
}

export function resolveTls(o: TlsOptions, problems: string[]): TlsConfig | null {
  if (o.certFile || o.keyFile) {
    if (!o.certFile || !o.keyFile) {
      problems.push('TLS_CERT_FILE and TLS_KEY_FILE go together: set both or neither');
      return null;
    }
    if (o.selfSigned) problems.push('TLS_SELF_SIGNED=true and TLS_CERT_FILE/TLS_KEY_FILE exclude each other: choose one');
    const cert = readPem(o.certFile, 'TLS_CERT_FILE', problems);
    const key = readPem(o.keyFile, 'TLS_KEY_FILE', problems);
    if (cert === null || key === null) return null;
    try {
      createSecureContext({ cert, key });
    } catch (err) {
      problems.push(`TLS_CERT_FILE and TLS_KEY_FILE are not a usable certificate and key: ${(err as Error).message}`);
      return null;
    }
    return { cert, key, selfSigned: false, certFile: o.certFile };
  }
  if (!o.selfSigned) return null;
  if (o.env === 'production') {
    problems.push(
      'TLS_SELF_SIGNED=true is for development only: in production set TLS_CERT_FILE and TLS_KEY_FILE, or terminate TLS at the proxy (docs/deploy.md)',
    );
    return null;
  }
  // Tests get a fresh certificate in memory and touch no files.
  if (o.env === 'test') return { ...createSelfSignedCertificate({ names: ['localhost', '127.0.0.1'] }), selfSigned: true, certFile: null };
  const dev = developmentCertificate(o.dataDir);
  return { cert: dev.cert, key: dev.key, selfSigned: true, certFile: dev.certFile };
}

function readPem(file: string, name: string, problems: string[]): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    problems.push(`${name}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
    return null;
  }
}

/** How long before its end a certificate is worth a warning at each start. */
const RENEW_WITHIN_MS = 30 * 86_400_000;

/**
 * What a start should say about the certificate files the node serves (TLS_CERT_FILE): one that
 * does not name PUBLIC_URL's host, or has ended or ends within 30 days, starts fine and then
 * shows every phone a certificate error. Nothing for a generated development certificate.
 */
export function certificateWarnings(tls: TlsConfig, publicUrl: string | null, now: Date): string[] {
  if (tls.selfSigned) return [];
  const cert = new X509Certificate(tls.cert);
  const warnings: string[] = [];
  if (publicUrl !== null) {
    const host = new URL(publicUrl).hostname.replace(/^\[|\]$/g, '');
    const named = isIP(host) ? cert.checkIP(host) : cert.checkHost(host);
    if (named === undefined) {
      warnings.push(
        `TLS_CERT_FILE ${tls.certFile ?? ''} does not name ${host}, the host of PUBLIC_URL: browsers opening it refuse the certificate. ` +
          `It names ${cert.subjectAltName ?? cert.subject}; make one for ${host} (docs/deploy.md)`,
      );
    }
  }
  const end = new Date(cert.validTo);
  const day = end.toISOString().slice(0, 10);
  if (end.getTime() <= now.getTime()) {
    warnings.push(`TLS_CERT_FILE ${tls.certFile ?? ''} expired on ${day}: browsers refuse it. Sign a new one and restart (docs/deploy.md)`);
  } else if (end.getTime() - now.getTime() < RENEW_WITHIN_MS) {
    warnings.push(`TLS_CERT_FILE ${tls.certFile ?? ''} expires on ${day}: sign a new one before then and restart (docs/deploy.md)`);
  }
  return warnings;
}
