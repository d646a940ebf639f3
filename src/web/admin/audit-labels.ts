/**
 * The readable name of each audit action and of each group of them (the name before the first
 * dot), and of each field an entry changed, in the page's language. Keys are built from the AuditAction union, so an action added to
 * src/shared/audit.ts without its label in admin-en.ts fails typecheck.
 */
import { isAuditField, type AuditAction } from '../../shared/audit.js';
import { at } from '../lib/admin-text.js';

export type AuditGroup = AuditAction extends `${infer Group}.${string}` ? Group : never;

export const actionGroup = (action: AuditAction): AuditGroup => action.slice(0, action.indexOf('.')) as AuditGroup;

export const actionLabel = (action: AuditAction): string => at(`audit.action.${action}`);

export const groupLabel = (group: AuditGroup): string => at(`audit.group.${group}`);

/** A changed field's name in words; a field the list does not know (a newer server) as its key. */
export const fieldLabel = (field: string): string => (isAuditField(field) ? at(`audit.field.${field}`) : field);
