import express, { type NextFunction, type Request, type RequestHandler, type Response, type Router } from 'express';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { refuseDeepJson } from './json-depth.js';
import multer from 'multer';
import type { z } from 'zod';
import type { Actor } from '../domain/actor.js';
import { AppError } from '../shared/app-error.js';
import type { RateLimiter } from '../domain/rate-limiter.js';
import { addressLimitKey } from '../domain/checks/network.js';
import type { RequestLimiters } from '../domain/request-limits.js';
import type { ErrorBody, ErrorCode } from '../shared/errors.js';
import { strictBody } from './strict-body.js';
import type { Role } from '../domain/ports/common.js';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** 'public': no token; 'authenticated': any role; a role list: only those roles. */
export type Access = 'public' | 'authenticated' | readonly Role[];

export interface HandlerContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** Uploaded files of a `files` route, in the order sent; empty otherwise. */
  files: Buffer[];
  /** The authenticated caller; reading it on a public route throws UNAUTHENTICATED. */
  readonly actor: Actor;
  /** Answers with one of the route's `response.also` statuses instead of `response.status`. */
  setStatus(status: number): void;
  req: Request;
  res: Response;
}

export interface RouteDef<
  P extends z.ZodType = z.ZodType<unknown>,
  Q extends z.ZodType = z.ZodType<unknown>,
  B extends z.ZodType = z.ZodType<unknown>,
  R extends z.ZodType = z.ZodType<unknown>,
> {
  method: HttpMethod;
  /** Express path relative to the registry's base, e.g. '/users/:id'. */
  path: string;
  summary: string;
  description?: string;
  tags: string[];
  access: Access;
  /**
   * 'heavy': counts against the smaller per-user budget of exports, imports and uploads
   * (HTTP_HEAVY_RATE_PER_MINUTE) instead of HTTP_RATE_PER_MINUTE. Public routes always count
   * per client IP (HTTP_PUBLIC_RATE_PER_MINUTE).
   */
  cost?: 'heavy';
  /**
   * Answers a user who must change their password (an admin asked for it); every other
   * authenticated route refuses them with PASSWORD_CHANGE_REQUIRED.
   */
  duringPasswordChange?: true;
  params?: P;
  query?: Q;
  body?: B;
  /** Also accept this text media type; the raw text is validated as `{ [field]: text }`. */
  textBody?: { contentType: string; field: string };
  /**
   * Also accept an HTML form's body (application/x-www-form-urlencoded or multipart/form-data
   * without files), validated by `body` like JSON: a page's button, or a mail provider's
   * one-click unsubscribe (RFC 8058).
   */
  formBody?: true;
  /**
   * A route people reach by following a link (an email's): a client that accepts HTML gets its
   * errors as this page instead of the JSON body, validation and rate limits included.
   */
  errorPage?: ErrorPage;
  /**
   * A multipart/form-data upload: files under `field` (at most `max`, each at most `maxBytes`,
   * held in memory: the limits stop the read early), other form fields validated by `body`.
   */
  files?: FileUpload<z.output<P>>;
  /**
   * JSON responses give `schema`. A non-JSON response (e.g. a CSV export) gives `contentType`
   * instead and its handler returns the body as a string, a Buffer, or an async iterable of
   * strings (streamed). Neither: no body (204).
   */
  response: {
    status: number;
    description: string;
    schema?: R;
    contentType?: string;
    /** Other success statuses the handler may choose (setStatus), with the same body. */
    also?: { status: number; description: string }[];
  };
  /** Domain error codes this route can answer with (documentation). */
  errors?: ErrorCode[];
  handler: (ctx: HandlerContext<z.output<P>, z.output<Q>, z.output<B>>) => Promise<z.input<R>>;
}

/**
 * Renders an error as a page: its HTTP status, the coded body, the request (its languages, say),
 * the path the service is published under (config.basePath) for its links, and the response
 * for headers of the page's own (the error handler has set the status and the CSP).
 */
export type ErrorPage = (status: number, error: ErrorBody, req: Request, basePath: string, res: Response) => string;

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      /** Set by a route with `errorPage`, for the error handler. */
      errorPage?: ErrorPage;
    }
  }
}

/** A form here is a few short fields. */
const FORM_BODY_BYTES = 8 * 1024;

export interface FileUpload<P = unknown> {
  field: string;
  min: number;
  max: number;
  maxBytes: number;
  description: string;
  /**
   * Runs after authentication and the path's ids and before a byte of the upload is read, so
   * a caller refused here (no right over the object, no budget left) costs no memory.
   */
  admit?: (actor: Actor, params: P) => Promise<void>;
}

/** Multipart overhead allowed besides the files themselves: part headers and small fields. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

/** What the OpenAPI builder reads. */
export interface RegisteredRoute {
  def: RouteDef<z.ZodType, z.ZodType, z.ZodType, z.ZodType>;
  /** OpenAPI form with the base path, e.g. '/api/v1/users/{id}'. */
  openApiPath: string;
}

/**
 * The largest JSON body of a public route (login, refresh, a password reset): theirs are a few
 * hundred bytes, and anyone may send them, before any login.
 */
export const PUBLIC_BODY_LIMIT_BYTES = 16 * 1024;

export interface RouteMiddleware {
  authenticate: RequestHandler;
  /** The largest JSON or text body of a route with a login (BODY_LIMIT_BYTES). */
  bodyLimitBytes: number;
  /** Holds a slot of this node's upload capacity until the response ends (uploadGate). */
  uploads: RequestHandler;
  limiters: Pick<RequestLimiters, 'http' | 'httpHeavy' | 'httpPublic'>;
}

/**
 * Registers express handlers and records, from the very same zod schemas, the OpenAPI
 * operation that documents them: the document cannot drift from what validates requests.
 * Responses are parsed through their schema too, so undocumented fields never leave.
 */
export class RouteRegistry {
  readonly routes: RegisteredRoute[] = [];

  constructor(
    private readonly router: Router,
    private readonly basePath: string,
    private readonly middleware: RouteMiddleware,
  ) {}

  define<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType, R extends z.ZodType>(route: RouteDef<P, Q, B, R>): void {
    // A JSON body refuses unknown fields, and the document says so (additionalProperties: false).
    // Forms (a mail provider's one-click) and multipart uploads keep their own rules.
    const def = route.body && !route.files && !route.formBody ? { ...route, body: strictBody(route.body) } : route;
    const stack: RequestHandler[] = [];
    const { limiters } = this.middleware;
    if (def.errorPage) {
      const page = def.errorPage;
      stack.push((_req: Request, res: Response, next: NextFunction) => {
        res.locals.errorPage = page;
        next();
      });
    }
    if (def.access === 'public') {
      stack.push(rateLimit(limiters.httpPublic, perAddress));
    } else {
      stack.push(this.middleware.authenticate);
      // Per user after authentication: pupils behind one school address must not share a budget.
      stack.push(rateLimit(def.cost === 'heavy' ? limiters.httpHeavy : limiters.http, (_req, res) => res.locals.actor!.id));
    }
    if (def.access !== 'public' && !def.duringPasswordChange) stack.push(refusePendingPasswordChange);
    if (Array.isArray(def.access)) stack.push(requireRoles(def.access));
    // After authentication, roles, the path's ids and the route's own admission: a caller
    // without the right, or a body announced too large, never gets to upload megabytes.
    if (def.files) {
      const upload = def.files;
      const params = def.params;
      stack.push(async (req: Request, res: Response, next: NextFunction) => {
        try {
          const parsed = (params ? params.parse(req.params) : {}) as z.output<P>;
          refuseAnnouncedOversize(req, upload);
          if (upload.admit) await upload.admit(res.locals.actor as Actor, parsed);
        } catch (err) {
          // The body is never buffered. One announced within the route's limit is drained after
          // the answer, so the client reads it; anything else (too large, or of unknown length)
          // is cut by closing the connection after the answer.
          if (announcedBytes(req) > mostBytes(upload)) res.setHeader('Connection', 'close');
          throw err;
        }
        next();
      });
      stack.push(this.middleware.uploads);
      stack.push(receiveFiles(upload));
    }
    // Read only now, after the rate limit, the token and the roles: parsed first (as it was, for
    // all of /api), a body of BODY_LIMIT_BYTES cost the node its parse for any caller, and a
    // refused token counts no budget.
    if (def.body && !def.files) stack.push(...bodyParsers(def, this.middleware.bodyLimitBytes));
    if (def.formBody) stack.push(...formBodyParsers());
    stack.push(async (req: Request, res: Response) => {
      const params = def.params ? def.params.parse(req.params) : {};
      const query = def.query ? def.query.parse(req.query) : {};
      const body = def.files ? def.body?.parse(req.body ?? {}) : def.body ? def.body.parse(readBody(req, def)) : undefined;
      const files = def.files ? uploadedFiles(req, def.files) : [];
      let status = def.response.status;
      const ctx = {
        params,
        query,
        body,
        files,
        req,
        res,
        get actor(): Actor {
          const actor = res.locals.actor;
          if (!actor) throw new AppError('UNAUTHENTICATED');
          return actor;
        },
        setStatus(chosen: number) {
          if (!def.response.also?.some((a) => a.status === chosen)) throw new Error(`${def.path}: undocumented status ${chosen}`);
          status = chosen;
        },
      } as HandlerContext<z.output<P>, z.output<Q>, z.output<B>>;
      const result = await def.handler(ctx);
      if (def.response.contentType && !def.response.schema) {
        // A handler that knows the exact type (an image) sets it; the declared one is the fallback.
        if (!res.getHeader('Content-Type')) res.type(def.response.contentType);
        if (isAsyncIterable(result)) {
          // Streamed (a year's export): the pipeline waits for a slow client instead of buffering.
          res.status(status);
          await pipeline(Readable.from(result), res);
          return;
        }
        if (typeof result !== 'string' && !Buffer.isBuffer(result))
          throw new Error(`${def.path}: a ${def.response.contentType} handler must return text`);
        res.status(status).send(result);
        return;
      }
      if (!def.response.schema) {
        res.status(status).end();
        return;
      }
      res.status(status).json(def.response.schema.parse(result));
    });
    this.router[def.method](def.path, ...stack);
    this.routes.push({
      def: def as unknown as RegisteredRoute['def'],
      openApiPath: this.basePath + def.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}'),
    });
  }

  /**
   * Answers any other method on a defined path with 405 METHOD_NOT_ALLOWED and the path's
   * methods in Allow (RFC 9110), OPTIONS included. Call once, after the last `define`: paths
   * match in the order defined, so '/users/import' keeps its own answer before '/users/:id'.
   */
  refuseOtherMethods(): void {
    const methods = new Map<string, Set<string>>();
    for (const { def } of this.routes) {
      const set = methods.get(def.path) ?? new Set<string>();
      set.add(def.method.toUpperCase());
      if (def.method === 'get') set.add('HEAD');
      methods.set(def.path, set);
    }
    for (const [path, set] of methods) {
      const allow = [...set].sort().join(', ');
      // Per client IP like public routes: it runs before (and without) authentication.
      this.router.all(
        path,
        rateLimit(this.middleware.limiters.httpPublic, perAddress),
        (_req: Request, res: Response, next: NextFunction) => {
          res.setHeader('Allow', allow);
          next(new AppError('METHOD_NOT_ALLOWED', undefined, { allow }));
        },
      );
    }
  }
}

/** The key of a request's per-address limits: the client address, an IPv6 one by its /64 (addressLimitKey). */
export function perAddress(req: Request): string {
  return addressLimitKey(req.ip ?? 'unknown');
}

/** 429 RATE_LIMITED with Retry-After (set by the error handler from `retryAfterMs`). */
export function rateLimit(limiter: RateLimiter, keyOf: (req: Request, res: Response) => string): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    limiter
      .consume(keyOf(req, res))
      .then(
        (limit) => next(limit.allowed ? undefined : new AppError('RATE_LIMITED', undefined, { retryAfterMs: limit.retryAfterMs })),
        next,
      );
  };
}

function refusePendingPasswordChange(_req: Request, res: Response, next: NextFunction): void {
  next(res.locals.passwordChangeRequired ? new AppError('PASSWORD_CHANGE_REQUIRED') : undefined);
}

function requireRoles(roles: readonly Role[]): RequestHandler {
  return (_req: Request, res: Response, next: NextFunction) => {
    const actor = res.locals.actor;
    if (!actor) return next(new AppError('UNAUTHENTICATED'));
    if (!roles.includes(actor.role)) return next(new AppError('FORBIDDEN'));
    next();
  };
}

/** The request's Content-Length; infinite when it has none (chunked). */
function announcedBytes(req: Request): number {
  const announced = Number(req.headers['content-length'] ?? Number.NaN);
  return Number.isFinite(announced) ? announced : Number.POSITIVE_INFINITY;
}

const mostBytes = (spec: FileUpload<never>): number => spec.max * spec.maxBytes + MULTIPART_OVERHEAD_BYTES;

/** Refuses on Content-Length alone, before reading, a body that cannot fit the upload's limits. */
function refuseAnnouncedOversize(req: Request, spec: FileUpload<never>): void {
  const announced = announcedBytes(req);
  if (announced !== Number.POSITIVE_INFINITY && announced > mostBytes(spec)) {
    throw new AppError('PAYLOAD_TOO_LARGE', `An upload here may have at most ${spec.max} files of ${spec.maxBytes} bytes.`, {
      maxBytes: spec.maxBytes,
      maxFiles: spec.max,
    });
  }
}

/**
 * At most `max` uploads are read at once on this node, and at most `maxPerUser` of one user;
 * beyond, BUSY with a retry hint. Per-process counts on purpose: what they bound is this
 * process's memory. The per-user bound is what keeps one client from taking every slot: an
 * upload holds its slot while its body arrives, and a body sent a few bytes at a time arrives
 * only at the node's request timeout (5 min), so one user's stalled uploads refused every other
 * upload of the node (a class's face enrolments, a teacher's class photo) for that long.
 * It runs after authentication, so every upload has an actor.
 */
export function uploadGate(max: number, maxPerUser: number, retryAfterMs = 1_000): RequestHandler {
  let active = 0;
  const byUser = new Map<string, number>();
  return (_req: Request, res: Response, next: NextFunction) => {
    if (active >= max) {
      next(new AppError('BUSY', 'Too many uploads in progress on this server; retry shortly.', { retryAfterMs }));
      return;
    }
    const user = res.locals.actor!.id;
    const own = byUser.get(user) ?? 0;
    if (own >= maxPerUser) {
      next(new AppError('BUSY', 'An upload of yours is still in progress on this server; retry once it has finished.', { retryAfterMs }));
      return;
    }
    active++;
    byUser.set(user, own + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      active--;
      const left = (byUser.get(user) ?? 1) - 1;
      if (left > 0) byUser.set(user, left);
      else byUser.delete(user);
    };
    res.once('finish', release);
    res.once('close', release);
    next();
  };
}

function receiveFiles(spec: FileUpload<never>): RequestHandler {
  const upload = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: spec.maxBytes, files: spec.max, fields: 20, fieldSize: 64 * 1024, parts: spec.max + 20 },
  }).array(spec.field, spec.max);
  return (req: Request, res: Response, next: NextFunction) => {
    if (!req.is('multipart/form-data')) {
      next(new AppError('UNSUPPORTED_MEDIA_TYPE', `Send multipart/form-data with the files under "${spec.field}".`));
      return;
    }
    upload(req, res, (err: unknown) => next(err === undefined || err === null ? undefined : uploadError(err, spec)));
  };
}

/**
 * Every upload failure is the client's: multer's limits, and busboy's malformed bodies (no
 * boundary, a truncated form, an aborted request). Coded answers with fixed messages, so a
 * broken client neither earns a 500 nor gets our parser's words echoed back.
 */
function uploadError(err: unknown, spec: FileUpload<never>): AppError {
  const code = err instanceof multer.MulterError ? err.code : null;
  switch (code) {
    case 'LIMIT_FILE_SIZE':
      return new AppError('PAYLOAD_TOO_LARGE', `Each file may have at most ${spec.maxBytes} bytes.`, { maxBytes: spec.maxBytes });
    case 'LIMIT_FILE_COUNT':
    case 'LIMIT_UNEXPECTED_FILE':
      return new AppError('VALIDATION_FAILED', `Send ${spec.min} to ${spec.max} files under "${spec.field}".`, {
        field: spec.field,
        min: spec.min,
        max: spec.max,
      });
    case null:
      return new AppError('VALIDATION_FAILED', 'The multipart body is malformed or incomplete.');
    default:
      return new AppError('VALIDATION_FAILED', 'The multipart body exceeds a limit on its parts or fields.');
  }
}

function uploadedFiles(req: Request, spec: FileUpload<never>): Buffer[] {
  const files = Array.isArray(req.files) ? req.files.map((f) => f.buffer) : [];
  if (files.length < spec.min) {
    throw new AppError('VALIDATION_FAILED', `Send ${spec.min} to ${spec.max} files under "${spec.field}".`, {
      field: spec.field,
      min: spec.min,
      max: spec.max,
    });
  }
  return files;
}

/** The JSON body, and the text one of a `textBody` route, as `req.body`: at most PUBLIC_BODY_LIMIT_BYTES for a public route. */
function bodyParsers(def: { access: Access; textBody?: { contentType: string } }, bodyLimitBytes: number): RequestHandler[] {
  const limit = def.access === 'public' ? Math.min(PUBLIC_BODY_LIMIT_BYTES, bodyLimitBytes) : bodyLimitBytes;
  return [
    express.json({ limit, strict: true, verify: refuseDeepJson }),
    ...(def.textBody ? [express.text({ type: def.textBody.contentType, limit })] : []),
  ];
}

/** The urlencoded and the file-less multipart body of a `formBody` route, as `req.body`. */
function formBodyParsers(): RequestHandler[] {
  const multipart = multer({
    storage: multer.memoryStorage(),
    limits: { files: 0, fields: 10, fieldSize: 1_024, parts: 10, fieldNameSize: 100 },
  }).none();
  return [
    express.urlencoded({ extended: false, limit: FORM_BODY_BYTES, parameterLimit: 10 }),
    (req: Request, res: Response, next: NextFunction) => {
      if (!req.is('multipart/form-data')) return next();
      multipart(req, res, (err: unknown) =>
        next(
          err === undefined || err === null
            ? undefined
            : new AppError('VALIDATION_FAILED', 'The form body is malformed or exceeds a limit.'),
        ),
      );
    },
  ];
}

function readBody(req: Request, def: { textBody?: { contentType: string; field: string }; formBody?: true }): unknown {
  // An empty text body is still text: express.text gives '' for Content-Length: 0.
  if (def.textBody && typeof req.body === 'string' && req.is(def.textBody.contentType)) return { [def.textBody.field]: req.body };
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  if (!hasBody) return req.body;
  if (def.textBody && req.is(def.textBody.contentType)) {
    return { [def.textBody.field]: typeof req.body === 'string' ? req.body : '' };
  }
  if (def.formBody && req.is(['application/x-www-form-urlencoded', 'multipart/form-data'])) return req.body ?? {};
  if (!req.is('application/json')) {
    const others = [...(def.textBody ? [def.textBody.contentType] : []), ...(def.formBody ? ['a form'] : [])];
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', `Send application/json${others.map((o) => ` or ${o}`).join('')}.`);
  }
  return req.body;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<string> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}
