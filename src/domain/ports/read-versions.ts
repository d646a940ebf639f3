/**
 * Read versions of an organisation's directory.
 * The conventions of every port are in ./store.ts.
 */

/** What a read version follows: every stored change of these, each its own number. */
export const READ_VERSION_KINDS = ['users', 'subjects', 'enrolments', 'sessions'] as const;
export type ReadVersionKind = (typeof READ_VERSION_KINDS)[number];
export type ReadVersions = Readonly<Record<ReadVersionKind, number>>;

/**
 * A number per organisation and kind that moves on with every stored change of its users,
 * subjects, enrolments or sessions (all of a session but its roster counter and the scheduler's
 * lease), made by any writer (another node, another process, a migration), and never comes
 * back. While one stands, what a node read of that kind is what the store holds: the check-in
 * reads keep them across turns (src/domain/checkins/checkin-reads.ts).
 */
export interface ReadVersionRepository {
  /** The organisation's versions now (0 before any change), read together. */
  current(orgId: string): Promise<ReadVersions>;
}

/**
 * A number per organisation that moves on with every stored change of who may act in it: a
 * user's role, deactivation, required new password or deletion, the organisation's deactivation
 * or deletion, and the end of a login (a refresh-token family revoked: logout, new password,
 * refresh reuse, admin reset), whoever writes; it never comes back. While it stands, what a node
 * read of its users' standing is what the store holds: the acting user of a socket command is
 * kept across commands (src/realtime/current-actor.ts).
 */
export interface StandingVersionRepository {
  /** The organisation's standing version now (0 before any change). */
  current(orgId: string): Promise<number>;
}
