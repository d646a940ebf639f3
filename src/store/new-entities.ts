import { newId } from '../shared/ids.js';
import { normaliseSettings, type NewOrganisation, type Organisation } from '../domain/ports/organisations.js';
import type { NewRefreshToken, RefreshToken } from '../domain/ports/accounts.js';
import type { Excuse, NewExcuse } from '../domain/ports/excuses.js';
import type { NewOutboxMail, OutboxMail } from '../domain/ports/outbox.js';
import { type AttendanceSession, type NewSession } from '../domain/ports/sessions.js';
import { type NewSubject, type Subject } from '../domain/ports/subjects.js';
import { type NewUser, type User } from '../domain/ports/users.js';
import type { NewWebhookEndpoint, WebhookEndpoint } from '../domain/webhooks/webhook-ports.js';

/**
 * How a new entity looks before an adapter writes it: shared by every adapter so that the
 * defaults (lower-cased email, empty lease, copied arrays) cannot drift between stores.
 */
export function newOrganisationEntity(input: NewOrganisation, now: Date): Organisation {
  return {
    id: newId(),
    name: input.name,
    slug: input.slug,
    timezone: input.timezone,
    active: input.active ?? true,
    settings: normaliseSettings(input.settings),
    createdAt: now,
  };
}

export function newUserEntity(orgId: string, input: NewUser, now: Date): User {
  return {
    id: newId(),
    orgId,
    ...input,
    email: input.email.toLowerCase(),
    mustChangePassword: input.mustChangePassword ?? false,
    createdAt: now,
    updatedAt: now,
  };
}

export function newSubjectEntity(orgId: string, input: NewSubject, now: Date): Subject {
  return {
    id: newId(),
    orgId,
    ...input,
    teacherIds: [...input.teacherIds],
    allowedIpRanges: [...input.allowedIpRanges],
    archivedAt: null,
    createdAt: now,
    updatedAt: now,
  };
}

export function newSessionEntity(orgId: string, input: NewSession, now: Date): AttendanceSession {
  return {
    id: newId(),
    orgId,
    ...input,
    policy: { ...input.policy },
    room: input.room ? { location: input.room.location, allowedIpRanges: [...input.room.allowedIpRanges] } : null,
    meetingId: input.meetingId ?? null,
    createdAt: now,
    updatedAt: now,
    closedAt: null,
    closedBy: null,
    leaseOwner: null,
    leaseUntil: null,
    rosterVersion: 0,
    meetingEdit: null,
  };
}

export function newOutboxMailEntity(input: NewOutboxMail, now: Date): OutboxMail {
  return {
    id: newId(),
    ...input,
    userId: input.userId ?? null,
    status: 'queued',
    attempts: 0,
    lastError: null,
    nextAttemptAt: now,
    claimedBy: null,
    claimUntil: null,
    createdAt: now,
    sentAt: null,
  };
}

export function newExcuseEntity(orgId: string, input: NewExcuse, now: Date): Excuse {
  return {
    id: newId(),
    orgId,
    ...input,
    document: null,
    status: 'pending',
    decidedBy: null,
    decidedAt: null,
    decisionNote: null,
    createdAt: now,
    updatedAt: now,
  };
}

export function newWebhookEndpointEntity(orgId: string, input: NewWebhookEndpoint, now: Date): WebhookEndpoint {
  return {
    id: newId(),
    orgId,
    ...input,
    active: true,
    failingSince: null,
    disabledAt: null,
    disabledReason: null,
    createdAt: now,
    updatedAt: now,
  };
}

export function newRefreshTokenEntity(input: NewRefreshToken, now: Date): RefreshToken {
  return {
    id: newId(),
    ...input,
    userAgent: input.userAgent ?? null,
    ip: input.ip ?? null,
    createdAt: now,
    rotatedAt: null,
    revokedAt: null,
  };
}
