import { ApiError, login, type StoredAuth } from './auth.js';
import { reconnectDelayMs } from './reconnect-delay.js';

/** BUSY answers a login form waits out by itself before it shows the refusal. */
export const LOGIN_BUSY_RETRIES = 5;

/**
 * How long the login form waits before it sends the same login again after its `retries`-th
 * BUSY answer in a row (the node's password checks are full: a class logging in at once), or
 * null to show the error: anything but BUSY, or too many in a row. The node's hint is a floor
 * under a doubling wait, with up to half more at random, so a class refused together does not
 * come back together.
 */
export function busyLoginDelayMs(err: unknown, retries: number, random: number): number | null {
  if (!(err instanceof ApiError) || err.code !== 'BUSY' || retries >= LOGIN_BUSY_RETRIES) return null;
  return reconnectDelayMs(err.body, retries + 1, true, random);
}

/** login(), waiting out BUSY answers; `onWait` is told each wait, to say so on the page. */
export async function loginPatiently(
  email: string,
  password: string,
  organisation: string | undefined,
  onWait: (ms: number) => void,
): Promise<StoredAuth> {
  for (let retries = 0; ; retries += 1) {
    try {
      return await login(email, password, organisation);
    } catch (err) {
      const wait = busyLoginDelayMs(err, retries, Math.random());
      if (wait === null) throw err;
      onWait(wait);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
