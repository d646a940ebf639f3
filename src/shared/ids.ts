import { randomUUID } from 'node:crypto';

/** Opaque identifiers shared by every adapter, so records keep their ids when copied between stores. */
export function newId(): string {
  return randomUUID();
}
