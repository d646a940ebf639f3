/**
 * Whether the node itself serves HTTPS (TLS_CERT_FILE/TLS_KEY_FILE, or TLS_SELF_SIGNED=true in
 * development). A deployment usually terminates TLS at the proxy instead (docs/deploy.md).
 */
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
