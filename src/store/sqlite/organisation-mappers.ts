import { normaliseSettings, type Organisation, type OrganisationSettings } from '../../domain/ports/organisations.js';
import type { User, UserName, UserStanding } from '../../domain/ports/users.js';
import { ROLES } from '../../shared/events.js';
import { date, ms, oneOf, parse, str, strOrNull, type Row, type TableSpec } from './common-mappers.js';

// Rows of organisations and their users; TableSpec and the column readers are in common-mappers.ts.

const role = oneOf(ROLES, 'users.role');

export const organisations: TableSpec<Organisation> = {
  table: 'organisations',
  columns: ['id', 'name', 'slug', 'timezone', 'active', 'settings', 'created_at'],
  key: ['id'],
  toRow: (o) => ({
    id: o.id,
    name: o.name,
    slug: o.slug,
    timezone: o.timezone,
    active: o.active ? 1 : 0,
    settings: JSON.stringify(o.settings),
    created_at: ms(o.createdAt),
  }),
  fromRow: (r) => ({
    id: str(r.id),
    name: str(r.name),
    slug: str(r.slug),
    timezone: str(r.timezone),
    active: r.active === 1,
    settings: normaliseSettings(parse<Partial<OrganisationSettings>>(r.settings, 'organisations.settings')),
    createdAt: date(r.created_at),
  }),
};

export const users: TableSpec<User> = {
  table: 'users',
  columns: [
    'id',
    'org_id',
    'email',
    'name',
    'role',
    'student_number',
    'password_hash',
    'active',
    'must_change_password',
    'created_at',
    'updated_at',
  ],
  key: ['id'],
  toRow: (u) => ({
    id: u.id,
    org_id: u.orgId,
    email: u.email.toLowerCase(),
    name: u.name,
    role: u.role,
    student_number: u.studentNumber,
    password_hash: u.passwordHash,
    active: u.active ? 1 : 0,
    must_change_password: u.mustChangePassword ? 1 : 0,
    created_at: ms(u.createdAt),
    updated_at: ms(u.updatedAt),
  }),
  fromRow: (r) => ({
    id: str(r.id),
    orgId: str(r.org_id),
    email: str(r.email),
    name: str(r.name),
    role: role(r.role),
    studentNumber: strOrNull(r.student_number),
    passwordHash: strOrNull(r.password_hash),
    active: r.active === 1,
    mustChangePassword: r.must_change_password === 1,
    createdAt: date(r.created_at),
    updatedAt: date(r.updated_at),
  }),
};

/** A row of `SELECT id, name, student_number FROM users`. */
export const userNameFromRow = (r: Row): UserName => ({
  id: str(r.id),
  name: str(r.name),
  studentNumber: strOrNull(r.student_number),
});

/** A row of `SELECT id, role, active, must_change_password FROM users`. */
export const userStandingFromRow = (r: Row): UserStanding => ({
  id: str(r.id),
  role: role(r.role),
  active: r.active === 1,
  mustChangePassword: r.must_change_password === 1,
});
