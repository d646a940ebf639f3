import type { ClashOverrides } from '../../shared/events.js';
import { CommandError } from './socket.js';
import { tt } from './teacher-text.js';

/** The session commands that may meet a clash: each asks in its own words. */
export type ClashingCommand = 'open' | 'extend' | 'reopen';

type Code = 'SESSION_ALREADY_OPEN' | 'TEACHER_DOUBLE_BOOKED';

/** The flag that confirms each clash (docs/protocol.md §5.1, §5.4a). */
const CONFIRMS: Record<Code, ClashOverrides> = {
  SESSION_ALREADY_OPEN: { parallel: true },
  TEACHER_DOUBLE_BOOKED: { teacherOverlap: true },
};

/** The question for a clash; `inTheWay` names the session the server named, when the page knows it. */
function question(command: ClashingCommand, code: Code, inTheWay: string | null): string {
  const named = inTheWay ? tt('clash.named', { session: inTheWay }) : '';
  return tt(`clash.${command}.${code === 'SESSION_ALREADY_OPEN' ? 'parallel' : 'teacher'}`, { named });
}

/**
 * Sends a session command; a clash the server names (one session of a subject at a time, one
 * class at a time per teacher) is put to the teacher, naming the session in the way, and the
 * command sent again with the flag that confirms it. Each clash is asked about once: two
 * questions at most, then the answer stands.
 */
export async function sendConfirmingClashes<T>(
  command: ClashingCommand,
  send: (confirmed: ClashOverrides) => Promise<T>,
  describe: (sessionId: string) => Promise<string | null>,
): Promise<T> {
  let confirmed: ClashOverrides = {};
  for (let asked = 0; ; asked += 1) {
    try {
      return await send(confirmed);
    } catch (err) {
      const code = err instanceof CommandError && err.code in CONFIRMS ? (err.code as Code) : null;
      if (code === null || asked >= 2) throw err;
      const ids = (err as CommandError).body.details?.['sessionIds'];
      const first = Array.isArray(ids) && typeof ids[0] === 'string' ? ids[0] : null;
      const inTheWay = first ? await describe(first).catch(() => null) : null;
      if (!confirm(question(command, code, inTheWay))) throw err;
      confirmed = { ...confirmed, ...CONFIRMS[code] };
    }
  }
}
