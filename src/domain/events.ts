import type { AlertPayload, NotificationView } from '../shared/alerts.js';
import type { CheckinView, FaceChangeView, RosterUpdate, SessionView } from '../shared/events.js';

/**
 * What the domain announces. Transports subscribe and turn these into room broadcasts; the
 * domain never knows about sockets or rooms.
 */
export type DomainEvent =
  /** `sessionClosed`: a record of a closed session changed (a correction), which alert rules re-evaluate. */
  | { type: 'roster.changed'; orgId: string; update: RosterUpdate; studentId: string; checkin: CheckinView; sessionClosed: boolean }
  /** `change: 'opened'` when a teacher has just opened (or scheduled) it (webhooks' session.opened). */
  | { type: 'session.changed'; orgId: string; session: SessionView; change?: 'opened' }
  /** Records of the session were taken back (a reopen): watching screens must take a fresh snapshot. */
  | { type: 'roster.reset'; orgId: string; sessionId: string }
  /** A close ran past CLOSE_MAX_MS and gave the session up, still closing: its screens are told. */
  | { type: 'session.close-failed'; orgId: string; sessionId: string; code: 'CLOSE_TIMED_OUT' }
  | { type: 'face.changed'; orgId: string; view: FaceChangeView }
  | { type: 'login.revoked'; orgId: string; sid: string }
  /** An alert rule was crossed for a student of a subject (once per crossing, whoever is told). */
  | { type: 'alert.raised'; orgId: string; alert: AlertPayload }
  /** A user got a notification (an alert); `unread` is their unread count with it. */
  | { type: 'notification.created'; orgId: string; userId: string; notification: NotificationView; unread: number }
  /** The account was deactivated or its role changed: its open sockets must go. */
  | { type: 'user.access-changed'; orgId: string; userId: string; code: 'ACCOUNT_DISABLED' | 'ROLE_CHANGED' }
  /** Students newly enrolled in a subject (not those enrolled already): their open sockets hear of it from now on. */
  | { type: 'subject.enrolled'; orgId: string; subjectId: string; studentIds: string[] }
  /** Teachers newly given a subject (at its creation or a change of its teachers): their open pages list it. */
  | { type: 'subject.assigned'; orgId: string; subjectId: string; teacherIds: string[] }
  /** People lost access to a subject; `sessionIds` are its sessions not closed, or closed but still reopenable. */
  | {
      type: 'subject.access-changed';
      orgId: string;
      subjectId: string;
      sessionIds: string[];
      removedStudentIds: string[];
      removedTeacherIds: string[];
    };

export interface EventPublisher {
  publish(event: DomainEvent): void;
}

/** Fan-out to any number of listeners; a failing listener is reported, not rethrown. */
export class EventBus implements EventPublisher {
  private readonly listeners = new Set<(event: DomainEvent) => void>();

  constructor(private readonly onListenerError: (err: unknown, event: DomainEvent) => void) {}

  subscribe(listener: (event: DomainEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: DomainEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.onListenerError(err, event);
      }
    }
  }
}
