import { ErrorCodes, type ErrorBody, type ErrorCode } from './errors.js';

/**
 * An error whose code and message are safe to show to a client. Anything else that escapes
 * to a transport is reported as INTERNAL without its message.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message?: string, details?: Record<string, unknown>) {
    super(message ?? ErrorCodes[code].message);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ErrorCodes[this.code].status;
  }

  toBody(): ErrorBody {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/** Turns any thrown value into a body safe to send: AppErrors as they are, the rest INTERNAL. */
export function toErrorBody(err: unknown): ErrorBody {
  if (err instanceof AppError) return err.toBody();
  return { code: 'INTERNAL', message: ErrorCodes.INTERNAL.message };
}
