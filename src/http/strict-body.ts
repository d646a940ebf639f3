import { z } from 'zod';

/**
 * The same schema with every object in it refusing unknown keys, for JSON request bodies: a
 * misspelt field (`settings.sessionMinute`) answers VALIDATION_FAILED naming it instead of a
 * 200 that silently changed nothing, as socket payloads already do (protocol.md §4). Route
 * schemas stay as written because responses share them, and a response parse must keep
 * stripping fields rather than fail. Objects that chose their own catch-all keep it.
 */
export function strictBody<S extends z.ZodType>(schema: S): S {
  return strict(schema) as S;
}

function strict(schema: z.ZodType): z.ZodType {
  const def = schema._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
  switch (def.type) {
    case 'object': {
      const shape = def.shape as Record<string, z.ZodType>;
      const strictShape = Object.fromEntries(Object.entries(shape).map(([key, value]) => [key, strict(value)]));
      return rebuilt(schema, { ...def, shape: strictShape, catchall: def.catchall ?? z.never() });
    }
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'nonoptional':
      return rebuilt(schema, { ...def, innerType: strict(def.innerType as z.ZodType) });
    case 'array':
      return rebuilt(schema, { ...def, element: strict(def.element as z.ZodType) });
    case 'record':
      return rebuilt(schema, { ...def, valueType: strict(def.valueType as z.ZodType) });
    case 'union':
      return rebuilt(schema, { ...def, options: (def.options as z.ZodType[]).map(strict) });
    case 'pipe':
      return rebuilt(schema, { ...def, in: strict(def.in as z.ZodType) });
    default:
      return schema;
  }
}

/** A clone with a new definition that keeps the original's checks and its description. */
function rebuilt(schema: z.ZodType, def: z.core.$ZodTypeDef & Record<string, unknown>): z.ZodType {
  const copy = schema.clone(def);
  const meta = z.globalRegistry.get(schema);
  if (meta) z.globalRegistry.add(copy, meta);
  return copy;
}
