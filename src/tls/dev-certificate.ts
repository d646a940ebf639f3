/**
 * The development certificate of `TLS_SELF_SIGNED=true`: made once under DATA_DIR/tls and made
 * again when it nears its end or this machine gained an address it does not name (a laptop
 * moved to another Wi-Fi), so a phone on the same network can open https://<LAN address>:PORT.
 */
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import path from 'node:path';
import { createSelfSignedCertificate, type Certificate } from './self-signed.js';

/** Made again this long before it expires. */
const RENEW_BEFORE_MS = 30 * 86_400_000;

/** localhost, this machine's name and its non-loopback addresses. */
export function localNames(): string[] {
  const host = hostname().toLowerCase();
  const names = new Set(['localhost', '127.0.0.1', '::1', host]);
  if (!host.includes('.')) names.add(`${host}.local`);
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (!a.internal && !a.address.startsWith('fe80:')) names.add(a.address);
  }
  return [...names];
}

/**
 * The student-page addresses a phone on the network can open, of a node listening on
 * `listenHost`: none when it listens on loopback alone, only IPv4 ones on 0.0.0.0.
 */
export function phoneUrls(names: readonly string[], listenHost: string, port: number): string[] {
  const url = (n: string) => `https://${n.includes(':') ? `[${n}]` : n}:${port}/student.html`;
  const loopback = (n: string) => n === 'localhost' || n === '::1' || n.startsWith('127.');
  if (loopback(listenHost)) return [];
  if (listenHost !== '0.0.0.0' && listenHost !== '::') return [url(listenHost)];
  return names.filter((n) => !loopback(n) && (listenHost === '::' || !n.includes(':'))).map(url);
}

export interface DevCertificate extends Certificate {
  certFile: string;
  created: boolean;
}

export function developmentCertificate(dataDir: string, names: readonly string[] = localNames(), now = new Date()): DevCertificate {
  const dir = path.join(dataDir, 'tls');
  const certFile = path.join(dir, 'dev-cert.pem');
  const keyFile = path.join(dir, 'dev-key.pem');
  if (existsSync(certFile) && existsSync(keyFile)) {
    const cert = readFileSync(certFile, 'utf8');
    if (stillFits(cert, names, now)) return { cert, key: readFileSync(keyFile, 'utf8'), certFile, created: false };
  }
  const made = createSelfSignedCertificate({ names, commonName: 'classroom-attendance development', now });
  mkdirSync(dir, { recursive: true });
  writeFileSync(keyFile, made.key, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  writeFileSync(certFile, made.cert);
  return { ...made, certFile, created: true };
}

function stillFits(pem: string, names: readonly string[], now: Date): boolean {
  const x509 = new X509Certificate(pem);
  if (new Date(x509.validTo).getTime() - now.getTime() < RENEW_BEFORE_MS) return false;
  return names.every((n) => (/^[\d.]+$|:/.test(n) ? x509.checkIP(n) : x509.checkHost(n)) !== undefined);
}
