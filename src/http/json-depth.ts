/**
 * Deepest nesting of arrays and objects a JSON request body may have. The API's deepest body is a
 * few levels (a policy inside a session inside a list); parsing is what a deep one costs: a
 * megabyte of nested arrays took JSON.parse 0.2 to 0.9 s of the node's event loop (one student's
 * POST /excuses answered in 458 ms at a load of 20 on a shared 2-core machine), and the rate
 * limits allow ten such requests a second per user.
 */
export const MAX_JSON_DEPTH = 32;

/** body-parser's `type` of the refusal, read by the error handler. */
export const JSON_TOO_DEEP = 'entity.too.deep';

/**
 * Whether the JSON text in `bytes` (UTF-8) nests arrays and objects deeper than `max`, read once
 * without parsing: brackets inside strings do not count. A bracket byte never occurs inside a
 * UTF-8 multi-byte character, so the bytes need no decoding.
 */
export function nestsDeeperThan(bytes: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i += 1) {
    const c = bytes[i];
    if (inString) {
      if (c === 0x5c) i += 1;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth += 1;
      if (depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth -= 1;
  }
  return false;
}

/**
 * body-parser's `verify` for JSON bodies: refuses one nested deeper than MAX_JSON_DEPTH before it
 * is parsed. A body in another UTF charset is decoded first (rare, and as body-parser would).
 */
export function refuseDeepJson(_req: unknown, _res: unknown, buf: Buffer, encoding: string): void {
  const utf8 = encoding === 'utf-8' || encoding === 'utf8' ? buf : Buffer.from(new TextDecoder(encoding).decode(buf), 'utf8');
  if (nestsDeeperThan(utf8, MAX_JSON_DEPTH)) {
    throw Object.assign(new Error(`the JSON body nests deeper than ${MAX_JSON_DEPTH} levels`), { type: JSON_TOO_DEEP });
  }
}
