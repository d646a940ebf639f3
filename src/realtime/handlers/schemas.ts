import { z } from 'zod';

/** Payload pieces shared by several handlers. */
export const Id = z.string().min(1).max(64);
export const SessionRefSchema = z.object({ sessionId: Id });
export const Note = z.string().trim().max(500);
