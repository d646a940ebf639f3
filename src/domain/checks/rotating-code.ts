import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const DIGITS = 6;
const MODULUS = 10 ** DIGITS;
const MIN_SECRET_BYTES = 16;
const CODE_PATTERN = /^\d{6}$/;

export type CodeVerdict = 'current' | 'previous' | 'invalid';

export interface CurrentCode {
  code: string;
  periodStartsAt: Date;
  expiresAt: Date;
}

/** A fresh session code secret: 32 random bytes, base64url. */
export function newCodeSecret(): string {
  return randomBytes(32).toString('base64url');
}

function secretKey(secret: string): Buffer {
  const key = /^[A-Za-z0-9_-]+$/.test(secret) ? Buffer.from(secret, 'base64url') : Buffer.alloc(0);
  if (key.length < MIN_SECRET_BYTES) {
    throw new RangeError(`code secret must be base64url of at least ${MIN_SECRET_BYTES} bytes`);
  }
  return key;
}

function periodIndex(periodS: number, at: Date): number {
  if (!Number.isFinite(periodS) || periodS <= 0) throw new RangeError(`invalid code period: ${periodS}`);
  const ms = at.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('invalid date');
  return Math.floor(ms / 1000 / periodS);
}

function codeForCounter(key: Buffer, counter: number): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt.asUintN(64, BigInt(counter)));
  const mac = createHmac('sha256', key).update(message).digest();
  // Dynamic truncation (RFC 4226 §5.3) over the 32-byte SHA-256 digest, as RFC 6238 does.
  const offset = (mac[mac.length - 1] as number) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fff_ffff;
  return String(binary % MODULUS).padStart(DIGITS, '0');
}

/**
 * The 6-digit code for the period containing `at`: HMAC-SHA256 keyed with the base64url-decoded
 * secret over the 8-byte big-endian counter floor(epochSeconds / periodS), dynamically
 * truncated. Throws a RangeError for a secret under 16 bytes, a bad period or an invalid date.
 */
export function codeAt(secret: string, periodS: number, at: Date): string {
  return codeForCounter(secretKey(secret), periodIndex(periodS, at));
}

/** The code to show on the classroom screen, with the period it belongs to. */
export function currentCode(secret: string, periodS: number, now: Date): CurrentCode {
  const counter = periodIndex(periodS, now);
  return {
    code: codeForCounter(secretKey(secret), counter),
    periodStartsAt: new Date(counter * periodS * 1000),
    expiresAt: new Date((counter + 1) * periodS * 1000),
  };
}

/**
 * Checks a submitted code against the current and the previous period only (a code read just
 * before it rotated still counts). Constant-time comparison; anything but 6 digits is invalid.
 */
export function verifyCode(secret: string, periodS: number, code: string, now: Date): CodeVerdict {
  const key = secretKey(secret);
  const counter = periodIndex(periodS, now);
  if (typeof code !== 'string' || !CODE_PATTERN.test(code)) return 'invalid';
  const given = Buffer.from(code, 'ascii');
  // Compare with both candidates every time so timing does not reveal which one matched.
  const isCurrent = timingSafeEqual(given, Buffer.from(codeForCounter(key, counter), 'ascii'));
  const isPrevious = timingSafeEqual(given, Buffer.from(codeForCounter(key, counter - 1), 'ascii'));
  if (isCurrent) return 'current';
  if (isPrevious) return 'previous';
  return 'invalid';
}

/**
 * How long a join token from the classroom QR link stays valid after the code period it was
 * issued in began. Long enough to log in on a phone after scanning; short enough that a link
 * sent to an absent friend is soon useless (docs/protocol.md, "Join link").
 */
export const JOIN_TOKEN_TTL_MS = 300_000;
const JOIN_MAC_CHARS = 16;
const JOIN_TOKEN_PATTERN = /^(\d{1,15})\.([A-Za-z0-9_-]{16})$/;

function joinMac(key: Buffer, counter: number): string {
  // Its own message prefix, so a join MAC can never equal a screen code's HMAC input.
  return createHmac('sha256', key).update(`join-link:${counter}`).digest('base64url').slice(0, JOIN_MAC_CHARS);
}

/** The signed join token the QR link carries: the code period counter and its MAC. */
export function joinTokenAt(secret: string, periodS: number, at: Date): string {
  const counter = periodIndex(periodS, at);
  return `${counter}.${joinMac(secretKey(secret), counter)}`;
}

/**
 * A join token is valid when its MAC matches and its period began at most JOIN_TOKEN_TTL_MS ago
 * (and not in the future). Constant-time MAC comparison; any other shape is invalid.
 */
export function verifyJoinToken(secret: string, periodS: number, token: string, now: Date): boolean {
  const key = secretKey(secret);
  const current = periodIndex(periodS, now);
  const match = typeof token === 'string' ? JOIN_TOKEN_PATTERN.exec(token) : null;
  if (!match) return false;
  const counter = Number(match[1]);
  const macOk = timingSafeEqual(Buffer.from(match[2]!, 'ascii'), Buffer.from(joinMac(key, counter), 'ascii'));
  const startsAt = counter * periodS * 1000;
  return macOk && counter <= current && now.getTime() - startsAt <= JOIN_TOKEN_TTL_MS;
}
