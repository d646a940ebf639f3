import { z } from 'zod';
import { ErrorCodes, type ErrorCode } from '../shared/errors.js';
import type { RegisteredRoute } from './define-route.js';
import { ErrorResponseSchema } from './schemas.js';

type JsonSchema = Record<string, unknown>;

/**
 * JSON Schema 2020-12 (the dialect of OpenAPI 3.1) of a zod schema. Requests are described
 * as clients send them (`io: 'input'`), responses as the server sends them; Date values are
 * ISO date-time strings on the wire.
 */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const out = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    override: (ctx) => {
      if (ctx.zodSchema._zod.def.type === 'date') {
        ctx.jsonSchema.type = 'string';
        ctx.jsonSchema.format = 'date-time';
      }
    },
  }) as JsonSchema;
  delete out.$schema;
  return out;
}

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

/**
 * The OpenAPI 3.1 document of every registered route, served from `basePath` (config.basePath),
 * so "Try it out" on the docs page reaches the API through the proxy that publishes it.
 */
export function buildOpenApiDocument(routes: readonly RegisteredRoute[], info: OpenApiInfo, basePath = ''): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    paths[route.openApiPath] ??= {};
    paths[route.openApiPath]![route.def.method] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info,
    servers: [{ url: basePath || '/' }],
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    paths,
    components: {
      schemas: { Error: jsonSchemaOf(ErrorResponseSchema, 'output') },
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
  };
}

function operation({ def }: RegisteredRoute): Record<string, unknown> {
  const op: Record<string, unknown> = {
    operationId: `${def.method}${def.path.replace(/[:/{}-]+(.)?/g, (_m, c?: string) => (c ? c.toUpperCase() : ''))}`,
    summary: def.summary,
    tags: def.tags,
  };
  if (def.description) op.description = def.description;
  const parameters = [...paramsOf(def.params, 'path'), ...paramsOf(def.query, 'query')];
  if (parameters.length > 0) op.parameters = parameters;
  if (def.files) {
    const body = def.body ? jsonSchemaOf(def.body, 'input') : { type: 'object', properties: {} };
    const properties = { ...((body.properties as JsonSchema | undefined) ?? {}) };
    properties[def.files.field] = {
      type: 'array',
      minItems: def.files.min,
      maxItems: def.files.max,
      items: { type: 'string', contentMediaType: 'application/octet-stream' },
      description: `${def.files.description} At most ${def.files.maxBytes} bytes each.`,
    };
    const required = [...((body.required as string[] | undefined) ?? []), def.files.field];
    op.requestBody = { required: true, content: { 'multipart/form-data': { schema: { ...body, type: 'object', properties, required } } } };
  } else if (def.body) {
    const content: Record<string, unknown> = { 'application/json': { schema: jsonSchemaOf(def.body, 'input') } };
    if (def.textBody) content[def.textBody.contentType] = { schema: { type: 'string' } };
    if (def.formBody) {
      content['application/x-www-form-urlencoded'] = { schema: jsonSchemaOf(def.body, 'input') };
      content['multipart/form-data'] = { schema: jsonSchemaOf(def.body, 'input') };
    }
    op.requestBody = { required: true, content };
  }
  if (def.access !== 'public') op.security = [{ bearerAuth: [] }];

  const { status, description, schema, contentType, also = [] } = def.response;
  const success = (text: string) =>
    schema
      ? { description: text, content: { [contentType ?? 'application/json']: { schema: jsonSchemaOf(schema, 'output') } } }
      : contentType
        ? { description: text, content: { [contentType]: { schema: { type: 'string' } } } }
        : { description: text };
  const responses: Record<string, unknown> = { [String(status)]: success(description) };
  for (const other of also) responses[String(other.status)] = success(other.description);
  for (const [status, codes] of errorStatuses(def)) {
    responses[String(status)] = {
      description: `Error: ${codes.join(', ')}`,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
    };
  }
  op.responses = responses;
  return op;
}

function paramsOf(schema: z.ZodType | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (!schema) return [];
  if (!(schema instanceof z.ZodObject)) throw new Error(`${where} schema must be a z.object`);
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => {
    const p: JsonSchema = {
      name,
      in: where,
      required: where === 'path' || !field.safeParse(undefined).success,
      schema: jsonSchemaOf(field, 'input'),
    };
    if (field.description) p.description = field.description;
    // OpenAPI marks a parameter deprecated on the parameter itself, not only in its schema.
    if (field.meta()?.['deprecated'] === true) p.deprecated = true;
    return p;
  });
}

/** Error responses every operation can give by its shape, plus the ones the route declares. */
function errorStatuses(def: RegisteredRoute['def']): Map<number, ErrorCode[]> {
  // Every route is rate limited (docs/limits.md).
  const codes = new Set<ErrorCode>([...(def.errors ?? []), 'RATE_LIMITED']);
  if (def.params || def.query || def.body) codes.add('VALIDATION_FAILED');
  if (def.files) ['VALIDATION_FAILED', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'].forEach((c) => codes.add(c as ErrorCode));
  else if (def.body) ['MALFORMED_JSON', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'].forEach((c) => codes.add(c as ErrorCode));
  // What every authenticated request may answer (docs/protocol.md §1, §3): the document named
  // only the first four, so a client generated from it had no case for a logged-out token.
  if (def.access !== 'public') {
    (['UNAUTHENTICATED', 'TOKEN_INVALID', 'TOKEN_EXPIRED', 'TOKEN_REVOKED', 'ACCOUNT_DISABLED', 'ORGANISATION_DISABLED'] as const).forEach(
      (c) => codes.add(c),
    );
    if (!def.duringPasswordChange) codes.add('PASSWORD_CHANGE_REQUIRED');
  }
  // Any request may meet a store that cannot take it (protocol.md §13: `details.cause` store).
  codes.add('BUSY');
  codes.add('UNAVAILABLE');
  if (Array.isArray(def.access)) codes.add('FORBIDDEN');
  if (def.params) codes.add('NOT_FOUND');
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = ErrorCodes[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return new Map([...byStatus].sort(([a], [b]) => a - b));
}
