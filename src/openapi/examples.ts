import type { z } from "zod";

const EXAMPLES = new WeakMap<z.ZodTypeDef, unknown>();

/**
 * Gives `schema` an example value for the API document (and the reference at /docs, which would
 * otherwise show "string"). Call it last: `.describe()` and the like make a new schema.
 */
export function withExample<T extends z.ZodTypeAny>(schema: T, value: z.input<T>): T {
  EXAMPLES.set(schema._def, value);
  return schema;
}

/** The example given to the schema with this definition, if any. */
export function exampleOf(def: z.ZodTypeDef): { value: unknown } | undefined {
  return EXAMPLES.has(def) ? { value: EXAMPLES.get(def) } : undefined;
}
