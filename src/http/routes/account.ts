import { z } from 'zod';
import { PASSWORD_MAX_BYTES, PASSWORD_MIN_LENGTH } from '../../domain/accounts/passwords.js';
import { perAddress, type RouteRegistry } from '../define-route.js';
import type { HttpContext } from '../http-context.js';
import { IdParams } from '../schemas.js';

/** Bounded so that one request cannot queue unbounded work; a larger import is invited in parts. */
export const INVITATIONS_MAX = 1_000;

const NewPassword = z
  .string()
  .min(PASSWORD_MIN_LENGTH)
  .max(200)
  .describe(`At least ${PASSWORD_MIN_LENGTH} characters and at most ${PASSWORD_MAX_BYTES} bytes`);

const ForgotBody = z.object({
  email: z.string().trim().min(1).max(320),
  organisation: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .optional()
    .describe('Organisation slug; without it every account with the email gets a link'),
});

const ForgotAnswer = z.object({ message: z.string() });
const FORGOT_ANSWER = { message: 'If an account has this email, a link to choose a new password is on its way.' };

const ResetBody = z.object({
  token: z.string().min(1).max(200).describe('The token of the link (after #token= in reset.html)'),
  password: NewPassword,
});

const ChangeBody = z.object({ currentPassword: z.string().min(1).max(1_024), newPassword: NewPassword });

const InvitationsBody = z.object({
  userIds: z.array(z.string().min(1).max(100)).min(1).max(INVITATIONS_MAX),
});

const InvitationReport = z.object({
  queued: z.number().int().describe("Invitations written to the organisation's email outbox (sent from there, not yet sent)"),
  skipped: z
    .array(z.string())
    .describe('Ids that got none: unknown in the organisation, deactivated, or left over when the outbox filled up'),
  resets: z
    .number()
    .int()
    .describe('Of those queued, the users who had a password already: they get a password reset link, not an invitation'),
});

const LoginSchema = z.object({
  sid: z.string().describe('The login; DELETE /me/logins/{id} with this id ends it'),
  current: z.boolean().describe('The login this request was made with'),
  userAgent: z.string().nullable(),
  ip: z.string().nullable(),
  startedAt: z.date(),
  lastUsedAt: z.date().describe('When the login last got new tokens (login or refresh)'),
  expiresAt: z.date(),
});

const ADMIN = ['admin'] as const;

/** Invitations, forgot-password, set-password from a link, own password and own logins. */
export function accountRoutes(routes: RouteRegistry, ctx: HttpContext): void {
  const { accounts } = ctx.services;

  routes.define({
    method: 'post',
    path: '/auth/forgot-password',
    summary: 'Email a set-password link',
    description:
      'Always the same answer, whether the email exists or not, has several accounts, or asked too often: ' +
      'at most RESET_EMAILS_PER_HOUR emails per address per hour are sent. The link works once, for RESET_TTL_S. ' +
      'Answered before the account is looked up, so neither the answer nor its time tells whether one has this email. ' +
      'A client address (an IPv6 one by its /64) may ask RESET_REQUESTS_PER_ADDRESS_PER_HOUR times an hour, whatever the ' +
      'emails: beyond, 429 RATE_LIMITED with Retry-After, counted before the lookup and so the same for every email.',
    tags: ['auth'],
    access: 'public',
    body: ForgotBody,
    response: { status: 202, description: 'Accepted (nothing said about the email)', schema: ForgotAnswer },
    errors: ['BUSY', 'RATE_LIMITED'],
    handler: async ({ body, req }) => {
      await accounts.askReset(body, perAddress(req));
      return FORGOT_ANSWER;
    },
  });

  routes.define({
    method: 'post',
    path: '/auth/reset-password',
    summary: 'Set a password with the token of an invitation or reset link',
    description:
      "The link then stops working, as do the user's other links, and every login of the user ends. A refused " +
      'password (VALIDATION_FAILED) leaves the link usable.',
    tags: ['auth'],
    access: 'public',
    body: ResetBody,
    response: { status: 204, description: 'Password set; log in with it' },
    errors: ['LINK_INVALID'],
    handler: async ({ body }) => {
      await accounts.setPasswordWithToken(body.token, body.password);
    },
  });

  routes.define({
    method: 'post',
    path: '/users/:id/invite',
    summary: 'Email a user an invitation to choose a password, or a reset link if they have one',
    description:
      "Queued in the organisation's email outbox (retried while SMTP refuses). A user who never had a password gets an invitation (link valid INVITE_TTL_S); " +
      'one who has a password gets a password reset sent by an admin (`admin-reset`, link valid RESET_TTL_S; their password works until they use it). ' +
      "The link is made when the email is sent, works once, and voids the user's earlier unused links. BUSY when the outbox is full.",
    tags: ['users'],
    access: ADMIN,
    params: IdParams,
    response: { status: 202, description: 'Invitation queued', schema: InvitationReport },
    errors: ['BUSY'],
    handler: ({ actor, params }) => accounts.invite(actor, params.id),
  });

  routes.define({
    method: 'post',
    path: '/users/invitations',
    cost: 'heavy',
    summary: 'Invite many users at once (e.g. the ids of a CSV import)',
    description: `At most ${INVITATIONS_MAX} ids; each invitation is queued in the organisation's email outbox and sent from there, retried while SMTP refuses. Users who have a password get a reset link instead (counted in resets), as with one invitation. BUSY when the outbox has room for none; ids not queued are in skipped.`,
    tags: ['users'],
    access: ADMIN,
    body: InvitationsBody,
    response: { status: 202, description: 'Invitations queued', schema: InvitationReport },
    errors: ['BUSY'],
    handler: ({ actor, body }) => accounts.inviteMany(actor, body.userIds),
  });

  routes.define({
    method: 'post',
    path: '/me/password',
    summary: 'Change your own password',
    description: 'Every other login of yours ends; this one stays. Also clears a required password change.',
    tags: ['auth'],
    access: 'authenticated',
    duringPasswordChange: true,
    body: ChangeBody,
    response: { status: 204, description: 'Password changed' },
    errors: ['CURRENT_PASSWORD_WRONG', 'BUSY'],
    handler: async ({ actor, body }) => {
      await accounts.changePassword(actor, body.currentPassword, body.newPassword);
    },
  });

  routes.define({
    method: 'get',
    path: '/me/logins',
    summary: 'Your logins that are still active',
    tags: ['auth'],
    access: 'authenticated',
    response: { status: 200, description: 'Most recently used first', schema: z.object({ items: z.array(LoginSchema) }) },
    handler: async ({ actor }) => {
      const logins = await accounts.listLogins(actor);
      return { items: logins.map(({ familyId, ...l }) => ({ sid: familyId, ...l })) };
    },
  });

  routes.define({
    method: 'delete',
    path: '/me/logins/:id',
    summary: 'End one of your logins',
    description: 'The id is the `sid` from GET /me/logins. Its refresh and access tokens stop working and its open sockets are cut.',
    tags: ['auth'],
    access: 'authenticated',
    params: IdParams,
    response: { status: 204, description: 'Ended' },
    handler: async ({ actor, params }) => {
      await accounts.revokeLogin(actor, params.id);
    },
  });
}
