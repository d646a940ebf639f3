import type { ErrorRequestHandler, NextFunction, Request, Response } from 'express';
import { ZodError } from 'zod';
import { AppError, toErrorBody } from '../shared/app-error.js';
import type { ErrorBody } from '../shared/errors.js';
import { issueDetails } from '../shared/validation-issues.js';
import { storeFailureToAppError } from '../domain/store-errors.js';
import { PAGE_CSP } from './static-pages.js';
import { JSON_TOO_DEEP, MAX_JSON_DEPTH } from './json-depth.js';
import { acceptsHtml, errorPage, negotiatesPage, wantsHtmlPage } from './error-page.js';
import { pageLanguageOf } from './page-shell.js';

/** body-parser reports its failures as errors with a `type`; map the ones clients cause. */
const BODY_PARSER_ERRORS: Record<string, AppError['code']> = {
  'entity.too.large': 'PAYLOAD_TOO_LARGE',
  'entity.parse.failed': 'MALFORMED_JSON',
  'encoding.unsupported': 'UNSUPPORTED_MEDIA_TYPE',
  'charset.unsupported': 'UNSUPPORTED_MEDIA_TYPE',
  'request.aborted': 'VALIDATION_FAILED',
  'entity.verify.failed': 'VALIDATION_FAILED',
};

/** Turns anything thrown into a client-safe error; other errors become INTERNAL, logged here. */
export function toHttpError(err: unknown): AppError | null {
  if (err instanceof AppError) return err;
  const store = storeFailureToAppError(err);
  if (store) return store;
  if (err instanceof ZodError) {
    return new AppError('VALIDATION_FAILED', undefined, { ...issueDetails(err.issues) });
  }
  const type = (err as { type?: unknown } | null)?.type;
  if (type === JSON_TOO_DEEP) {
    return new AppError('VALIDATION_FAILED', `The JSON body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels.`);
  }
  if (typeof type === 'string' && type in BODY_PARSER_ERRORS) return new AppError(BODY_PARSER_ERRORS[type]!);
  // A gzip or deflate body that does not inflate (truncated, corrupt): body-parser passes zlib's
  // error on with status 400 but no type.
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return new AppError('MALFORMED_JSON', 'The request body could not be decompressed.');
  }
  return null;
}

/** The last handler: coded JSON, or a page for a browser, its links under `basePath` (config.basePath). */
export function errorHandler(basePath: string): ErrorRequestHandler {
  return (err: unknown, req: Request, res: Response, next: NextFunction) => {
    answerError(err, req, res, next, basePath);
  };
}

function answerError(err: unknown, req: Request, res: Response, next: NextFunction, basePath: string): void {
  if (res.headersSent) return next(err);
  const known = toHttpError(err);
  let status: number;
  let body: ErrorBody;
  if (known) {
    status = known.status;
    body = known.toBody();
    // RATE_LIMITED, and BUSY/UNAVAILABLE from the face workers, carry a hint of when to retry.
    const retryAfterMs = known.details?.retryAfterMs;
    if (typeof retryAfterMs === 'number') {
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
    }
  } else {
    status = 500;
    body = toErrorBody(err);
    req.log.error({ err, reqId: req.id }, 'unhandled error');
  }
  const ownPage = res.locals.errorPage;
  // A cache in front (a school's proxy) keeps one answer per address unless told what chose it:
  // a 404 page in French for the next English reader, or a page for a program that wants JSON.
  if (ownPage || negotiatesPage(req)) res.vary('Accept').vary('Accept-Language');
  if (ownPage && acceptsHtml(req)) {
    res
      .status(status)
      .setHeader('Content-Security-Policy', PAGE_CSP)
      .type('html')
      .send(ownPage(status, body, req, basePath, res));
    return;
  }
  if (wantsHtmlPage(req)) {
    res
      .status(status)
      .setHeader('Content-Security-Policy', PAGE_CSP)
      .type('html')
      .send(errorPage(status, body.message, basePath, pageLanguageOf(req)));
    return;
  }
  res.status(status).json({ error: body });
}

export function notFoundHandler(_req: Request, _res: Response, next: NextFunction): void {
  next(new AppError('NOT_FOUND'));
}
