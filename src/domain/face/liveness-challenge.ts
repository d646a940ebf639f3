import { createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { LIVENESS_CHALLENGES, type LivenessChallenge } from '../../shared/liveness.js';

/**
 * The liveness challenge a check-in must perform, issued by the server and carried by the
 * client as a signed token: any node can check it without shared state, and the client can
 * neither choose the challenge nor keep one beyond its time limit. The key is the session's
 * code secret under its own label, so a token is good for one session and one student.
 */

/** From issue to submission: the page shows the prompt, captures about 3 s, sends the check-in. */
export const LIVENESS_CHALLENGE_TTL_MS = 30_000;

export interface IssuedChallenge {
  challenge: LivenessChallenge;
  token: string;
  expiresAt: Date;
}

const TOKEN = /^(turn-left|turn-right|blink)\.(\d{1,15})\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/;

function mac(secret: string, sessionId: string, studentId: string, body: string): string {
  return createHmac('sha256', Buffer.from(`liveness:${secret}`, 'utf8'))
    .update(`${sessionId}\n${studentId}\n${body}`)
    .digest('base64url');
}

/** A random challenge for this student's check-in in this session, valid LIVENESS_CHALLENGE_TTL_MS from `now`. */
export function issueChallenge(secret: string, sessionId: string, studentId: string, now: Date): IssuedChallenge {
  const challenge = LIVENESS_CHALLENGES[randomInt(LIVENESS_CHALLENGES.length)]!;
  const expiresAt = new Date(now.getTime() + LIVENESS_CHALLENGE_TTL_MS);
  const body = `${challenge}.${expiresAt.getTime()}.${randomBytes(12).toString('base64url')}`;
  return { challenge, token: `${body}.${mac(secret, sessionId, studentId, body)}`, expiresAt };
}

/** The challenge a token stands for, or null when it is malformed, forged, of another check-in, or expired at `now`. */
export function readChallenge(secret: string, sessionId: string, studentId: string, token: string, now: Date): LivenessChallenge | null {
  const m = TOKEN.exec(token);
  if (!m) return null;
  const body = `${m[1]}.${m[2]}.${m[3]}`;
  const expected = Buffer.from(mac(secret, sessionId, studentId, body), 'ascii');
  const given = Buffer.from(m[4]!, 'ascii');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  if (now.getTime() > Number(m[2])) return null;
  return m[1] as LivenessChallenge;
}
