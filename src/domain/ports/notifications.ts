/**
 * In-app notifications and email preferences (docs/notifications.md).
 * The conventions of every port are in ./store.ts.
 */

import type { AlertPayload, EmailCategory, EmailLanguage, NotificationCategory } from '../../shared/alerts.js';
import type { Page, PageQuery } from './common.js';

export interface Notification {
  id: string;
  orgId: string;
  userId: string;
  category: NotificationCategory;
  alert: AlertPayload;
  createdAt: Date;
  readAt: Date | null;
}

export type NewNotification = Pick<Notification, 'orgId' | 'userId' | 'category' | 'alert'>;

export interface NotificationFilter extends PageQuery {
  unreadOnly?: boolean;
  /** Only the alerts about this student (what a student may read of their own list). */
  aboutStudentId?: string;
}

export interface NotificationRepository {
  createMany(inputs: NewNotification[]): Promise<Notification[]>;
  /** Newest first. */
  list(orgId: string, userId: string, filter: NotificationFilter): Promise<Page<Notification>>;
  /** With `aboutStudentId`, of the alerts about that student only (as NotificationFilter). */
  unreadCount(orgId: string, userId: string, aboutStudentId?: string): Promise<number>;
  /** Marks the user's unread notifications among `ids` (all of them when null) read at `at`; returns how many. */
  markRead(orgId: string, userId: string, ids: string[] | null, at: Date): Promise<number>;
}

/** How a user wants their emails and pages: the language, and the categories they unsubscribed from. */
export interface NotificationPreferences {
  orgId: string;
  userId: string;
  /** The user's own language for emails and pages; null: the organisation's (settings.language). */
  language: EmailLanguage | null;
  unsubscribed: EmailCategory[];
  updatedAt: Date;
}

export interface NotificationPreferenceRepository {
  /** Null when the user never set any (the organisation's language, every category). */
  get(orgId: string, userId: string): Promise<NotificationPreferences | null>;
  getMany(orgId: string, userIds: string[]): Promise<NotificationPreferences[]>;
  /** Replaces the user's preferences. */
  put(orgId: string, userId: string, prefs: Pick<NotificationPreferences, 'language' | 'unsubscribed'>): Promise<NotificationPreferences>;
}
