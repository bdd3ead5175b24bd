import type { z } from "zod";

/** Accepted-input schemas, keyed by the definition of the schema that validates. */
const declared = new WeakMap<z.ZodTypeDef, z.ZodTypeAny>();

/**
 * Declares what a validating schema accepts, for the API document, where zod cannot show it: a
 * transform over `z.unknown()` that dispatches by hand, or a refinement that refuses some values
 * its shape allows. Returns `schema` itself, so validation is untouched; keep it the outermost
 * call (`.optional()` and the like may wrap it, `.describe()` would copy it and lose this).
 */
export function documentInput<S extends z.ZodTypeAny>(schema: S, accepted: z.ZodTypeAny): S {
  declared.set(schema._def, accepted);
  return schema;
}

/** The accepted-input schema declared for a schema definition, if any. */
export function declaredInput(def: z.ZodTypeDef): z.ZodTypeAny | undefined {
  return declared.get(def);
}
