import type { z } from "zod";
import { ignoreOverride, zodToJsonSchema } from "zod-to-json-schema";
import { exampleOf } from "./examples.js";
import { declaredInput } from "./input-schema.js";

/** A JSON Schema object as it goes into the document. */
export type JsonSchema = Record<string, unknown>;

/**
 * A request or response schema as JSON Schema for an OpenAPI 3.1 document (JSON Schema 2020-12):
 * the input side of transforms and refinements (what a client may send), each reused schema
 * inlined so nothing points into another document, and no `$schema` key.
 */
export function toJsonSchema(schema: z.ZodTypeAny): JsonSchema {
  const converted = zodToJsonSchema(schema, {
    // The closest target: its keywords all mean the same in 2020-12; only $schema differs.
    target: "jsonSchema2019-09",
    $refStrategy: "none",
    effectStrategy: "input",
    pipeStrategy: "input",
    // Input side: only .strict() objects refuse unknown keys; the others strip and accept them.
    removeAdditionalStrategy: "strict",
    postProcess: (json, def) => {
      const example = def && exampleOf(def);
      return json && example ? { ...json, examples: [example.value] } : json;
    },
    override: (def) => {
      const accepted = declaredInput(def);
      return accepted ? withDescription(toJsonSchema(accepted), def) : ignoreOverride;
    },
  }) as JsonSchema;
  delete converted.$schema;
  return converted;
}

/** Keeps a description given to the validating schema when its declared input stands in. */
function withDescription(schema: JsonSchema, def: z.ZodTypeDef): JsonSchema {
  return def.description && !schema.description
    ? { ...schema, description: def.description }
    : schema;
}
