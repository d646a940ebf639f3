/**
 * A partial input as a zod schema parses it: with exactOptionalPropertyTypes, `.optional()`
 * yields `field?: T | undefined`, and every service already reads undefined as "not given".
 */
export type PartialInput<T> = { [K in keyof T]?: T[K] | undefined };
