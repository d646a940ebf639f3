/**
 * The longest request the OpenAPI document allows, per operation: a string's maxLength counts
 * code points (JSON Schema), each of up to 4 UTF-8 bytes unless its pattern admits ASCII only,
 * and a client may percent-encode every byte (%XX, 3 characters).
 */

/** The longest text of a JSON number (the shortest round-trip form of a double: -2.2250738585072014e-308). */
const NUMBER_CHARS = 24;

export interface ParamSchema {
  type?: string;
  enum?: unknown[];
  const?: unknown;
  format?: string;
  pattern?: string;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  anyOf?: ParamSchema[];
  oneOf?: ParamSchema[];
}
export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  schema: ParamSchema;
}
export interface Operation {
  op: string;
  method: string;
  path: string;
  parameters: Parameter[];
}

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * Whether every string `pattern` matches is ASCII: no negated class, no `.`, no escape that
 * reaches beyond ASCII (\S, \W, \D, \s, \p, \u, \x), no literal beyond ASCII. Unsure: false.
 */
export function asciiOnly(pattern: string | undefined): boolean {
  if (pattern === undefined) return false;
  let inClass = false;
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i]!;
    if (c.charCodeAt(0) > 0x7f) return false;
    if (c === '\\') {
      const next = pattern[i + 1] ?? '';
      if (/[SWDspPux]/.test(next)) return false;
      i += 1;
    } else if (c === '[' && !inClass) {
      if (pattern[i + 1] === '^') return false;
      inClass = true;
    } else if (c === ']' && inClass) inClass = false;
    else if (c === '.' && !inClass) return false;
  }
  return true;
}

/** The most UTF-8 bytes a value of `schema` may take, or why it has no bound. */
export function maxBytes(schema: ParamSchema): number | string {
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) {
    const each = branches.map(maxBytes);
    const unbounded = each.find((b) => typeof b === 'string');
    return unbounded ?? Math.max(...(each as number[]));
  }
  if (schema.enum) return Math.max(...schema.enum.map((v) => utf8(String(v))));
  if (schema.const !== undefined) return utf8(String(schema.const));
  if (schema.type === 'boolean') return 'false'.length;
  if (schema.type === 'integer') {
    if (schema.minimum === undefined || schema.maximum === undefined) return 'an integer without minimum and maximum';
    return Math.max(String(schema.minimum).length, String(schema.maximum).length);
  }
  if (schema.type === 'number') return NUMBER_CHARS;
  if (schema.format === 'date') return 'YYYY-MM-DD'.length;
  if (schema.type === 'string') {
    if (schema.maxLength === undefined) return 'a string without maxLength';
    return schema.maxLength * (asciiOnly(schema.pattern) ? 1 : 4);
  }
  return `a schema of type ${String(schema.type)}`;
}

/** A value of `bytes` UTF-8 bytes, every byte percent-encoded: 4-byte characters while they fit, then ASCII. */
function encodedValue(bytes: number): string {
  return '%F0%9F%98%80'.repeat(Math.floor(bytes / 4)) + '%41'.repeat(bytes % 4);
}

/** The longest request target the document allows for `op`, or the parameters without a bound. */
export function longestTarget(op: Operation): { target: string; unbounded: string[] } {
  const unbounded: string[] = [];
  const value = (p: Parameter): string => {
    const bytes = maxBytes(p.schema);
    if (typeof bytes === 'string') {
      unbounded.push(`${op.op} ${p.in} ${p.name}: ${bytes}`);
      return '';
    }
    return encodedValue(bytes);
  };
  let path = op.path;
  for (const p of op.parameters.filter((x) => x.in === 'path')) path = path.replace(`{${p.name}}`, value(p));
  const query = op.parameters.filter((x) => x.in === 'query').map((p) => `${encodedValue(utf8(p.name))}=${value(p)}`);
  return { target: query.length > 0 ? `${path}?${query.join('&')}` : path, unbounded };
}

/** Every operation of the document `doc` (/api/openapi.json). */
export function operationsOf(doc: { paths: Record<string, Record<string, { parameters?: Parameter[] }>> }): Operation[] {
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, o]) => ({ op: `${method.toUpperCase()} ${path}`, method, path, parameters: o.parameters ?? [] })),
  );
}

/** The request line (with its CRLF) of `op`'s longest request. */
export const longestLine = (op: Operation): string => `${op.method.toUpperCase()} ${longestTarget(op).target} HTTP/1.1\r\n`;
