import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs. Redaction is the last line of defence: call sites must not log
 * tokens, passwords, images or embeddings in the first place.
 */
export function createLogger(level: string, base: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'headers.authorization',
        '*.password',
        '*.token',
        '*.refreshToken',
        '*.accessToken',
        '*.image',
        '*.selfie',
        '*.embedding',
        '*.embeddings',
      ],
      censor: '[redacted]',
    },
  });
}
