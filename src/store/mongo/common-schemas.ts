import { newId } from '../../shared/ids.js';

/**
 * MongoDB document shapes and their schemas, one collection per entity. `_id` is the entity's
 * UUID string (or a composite of its natural key where the entity has no id), so ids survive
 * a copy between stores. Timestamps are written by the adapter, not by mongoose, so that an
 * imported document keeps its original createdAt/updatedAt.
 *
 * Index names double as conflict keys: a duplicate on `email` raises StoreConflictError('email').
 */

/** An entity as stored: its id is the document's `_id`. */
export type Doc<E extends { id: string }> = Omit<E, 'id'> & { _id: string };
/** An entity without an id, stored under its natural key (mapping.ts). */
export type KeyedDoc<E> = E & { _id: string };

// Indexes are built explicitly at start (models.ts), never implicitly on model compile. No
// command buffering: the store is handed out only once connected, and an outage should fail
// fast with the driver's server-selection error rather than queue in memory.
export const base = { versionKey: false as const, autoIndex: false, autoCreate: false, bufferCommands: false, id: false };
export const id = { type: String, required: true, default: () => newId() };
export const requiredString = { type: String, required: true };
export const nullableString = { type: String, default: null };
export const nullableDate = { type: Date, default: null };

export const DAY = /^\d{4}-\d{2}-\d{2}$/;
