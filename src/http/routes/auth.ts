import type { Request } from 'express';
import { z } from 'zod';
import type { ClientInfo } from '../../domain/accounts/auth-service.js';
import { toPublicUser } from '../../domain/users/public-user.js';
import { AppError } from '../../shared/app-error.js';
import type { RouteRegistry } from '../define-route.js';
import type { HttpContext } from '../http-context.js';
import { PublicUserSchema } from '../schemas.js';

const LoginBody = z.object({
  email: z.string().trim().min(1).max(320),
  password: z.string().min(1).max(1_024),
  organisation: z
    .string()
    .trim()
    .min(1)
    .max(100)
    .optional()
    .describe('Organisation slug; needed only when the password is right for accounts of this email in several organisations'),
  deviceToken: z
    .string()
    .max(200)
    .optional()
    .describe(
      'The deviceToken of an earlier login on this device: logins of its account from a known device are limited per device, not per account',
    ),
});

const RefreshBody = z.object({ refreshToken: z.string().min(1).max(200) });

const TokenPairSchema = z.object({
  accessToken: z.string(),
  accessTokenExpiresAt: z.date(),
  refreshToken: z.string().describe('Opaque; send it to /auth/refresh. Each one works once.'),
  refreshTokenExpiresAt: z.date(),
  user: PublicUserSchema,
});

const LoginResponse = TokenPairSchema.extend({
  deviceToken: z.string().describe('Keep it on this device and send it with the next login of this account'),
});

/** The client's address and User-Agent, kept on the login for its owner's list of logins. */
export function clientOf(req: Request): ClientInfo {
  return { ip: req.ip ?? null, userAgent: req.get('user-agent') ?? null };
}

/** Login, refresh, logout, me. */
export function authRoutes(routes: RouteRegistry, ctx: HttpContext): void {
  const { auth } = ctx.services;

  routes.define({
    method: 'post',
    path: '/auth/login',
    summary: 'Log in with email and password',
    description:
      'Attempts are counted before the password is checked: per client address (a one-minute throttle), per account and ' +
      'per address and account (exponential back-off), or only per device when a valid deviceToken of the account is sent (one another account of the email got counts for nothing). ' +
      'Over a limit: 429 RATE_LIMITED with Retry-After and details.retryAfterMs. Without `organisation`, the password is tried against every ' +
      'account of the email: the one account it opens is logged in; ORGANISATION_REQUIRED only when it opens accounts in several organisations. ' +
      'Every refusal without the right password is INVALID_CREDENTIALS (an unknown email, a wrong password, an unknown organisation), after the same work. ' +
      'ORGANISATION_REQUIRED, ACCOUNT_DISABLED and ORGANISATION_DISABLED need the right password. When the node has more password checks waiting than BCRYPT_MAX_QUEUE ' +
      '(a whole class logging in at once): 503 BUSY with Retry-After and details.retryAfterMs.',
    tags: ['auth'],
    access: 'public',
    body: LoginBody,
    response: { status: 200, description: 'Access and refresh token, and a device token', schema: LoginResponse },
    errors: ['INVALID_CREDENTIALS', 'ACCOUNT_DISABLED', 'ORGANISATION_DISABLED', 'ORGANISATION_REQUIRED', 'RATE_LIMITED', 'BUSY'],
    handler: ({ body, req }) => auth.login({ ...body, ...clientOf(req) }),
  });

  routes.define({
    method: 'post',
    path: '/auth/refresh',
    summary: 'Exchange a refresh token for a new pair',
    description: 'The old refresh token stops working. Presenting it again revokes every token of that login.',
    tags: ['auth'],
    access: 'public',
    body: RefreshBody,
    response: { status: 200, description: 'A new access and refresh token', schema: TokenPairSchema },
    errors: ['REFRESH_TOKEN_INVALID', 'REFRESH_TOKEN_REUSED', 'ACCOUNT_DISABLED', 'ORGANISATION_DISABLED'],
    handler: ({ body, req }) => auth.refresh(body.refreshToken, clientOf(req)),
  });

  routes.define({
    method: 'post',
    path: '/auth/logout',
    summary: 'Revoke a refresh token and every token rotated from the same login',
    tags: ['auth'],
    access: 'public',
    body: RefreshBody,
    response: { status: 204, description: 'Logged out (also for unknown tokens)' },
    handler: async ({ body }) => {
      await auth.logout(body.refreshToken);
    },
  });

  routes.define({
    method: 'get',
    path: '/me',
    summary: 'The authenticated user',
    tags: ['auth'],
    access: 'authenticated',
    duringPasswordChange: true,
    response: { status: 200, description: 'The caller', schema: PublicUserSchema },
    handler: async ({ actor }) => {
      const user = await ctx.store.users.get(actor.orgId, actor.id);
      if (!user) throw new AppError('NOT_FOUND');
      return toPublicUser(user);
    },
  });
}
