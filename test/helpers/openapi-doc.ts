import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";

/** ajv-formats is CommonJS; its default export arrives as the module or as `.default`. */
const addFormats = ((addFormatsModule as any).default ?? addFormatsModule) as (a: Ajv2020) => void;

/** Operation keys of an OpenAPI path item. */
export const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

/** Fastify's `/a/:id` as OpenAPI's `/a/{id}`: spelled here independently of the server's. */
export const templated = (url: string) => url.replace(/:(\w+)/g, "{$1}");

/** Every (path, method, operation) of a document. */
export function operations(doc: any): { path: string; method: string; op: any }[] {
  return Object.entries(doc.paths as Record<string, any>).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ path, method, op: item[method] })),
  );
}

/** Every `$ref` string anywhere in a value, with where it was found. */
export function refsIn(value: unknown, at = "#"): { ref: string; at: string }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => refsIn(v, `${at}/${i}`));
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) =>
    k === "$ref" && typeof v === "string" ? [{ ref: v, at }] : refsIn(v, `${at}/${k}`),
  );
}

/** Resolves a local JSON pointer (`#/components/schemas/Error`) in `doc`; undefined if absent. */
export function resolvePointer(doc: unknown, ref: string): unknown {
  if (!ref.startsWith("#/")) return undefined;
  let node: any = doc;
  for (const raw of ref.slice(2).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (typeof node !== "object" || node === null || !(key in node)) return undefined;
    node = node[key];
  }
  return node;
}

/** Keywords that give a JSON Schema a shape; a schema with none of them accepts anything. */
const SHAPE = ["type", "anyOf", "oneOf", "allOf", "const", "enum", "$ref", "not"];

/** Paths of subschemas that accept anything (`{}`, or a description alone). */
export function shapelessSchemas(schema: any, at = ""): string[] {
  if (typeof schema !== "object" || schema === null) return [];
  const here = SHAPE.some((k) => k in schema) ? [] : [at || "(root)"];
  const children: [string, any][] = [
    ...Object.entries(schema.properties ?? {}).map(([k, v]) => [`${at}.${k}`, v] as [string, any]),
    ...(["anyOf", "oneOf", "allOf"] as const).flatMap((k) =>
      (schema[k] ?? []).map((v: any, i: number) => [`${at}.${k}[${i}]`, v] as [string, any]),
    ),
  ];
  if (schema.items) children.push([`${at}[]`, schema.items]);
  if (typeof schema.additionalProperties === "object") {
    children.push([`${at}{}`, schema.additionalProperties]);
  }
  return [...here, ...children.flatMap(([p, s]) => shapelessSchemas(s, p))];
}

/** A JSON Schema 2020-12 validator in strict mode, with the standard formats (uuid, ...). */
export function compile(schema: object): ValidateFunction {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  return ajv.compile(schema);
}

/** The JSON request body schema of an operation. */
export function bodySchema(doc: any, path: string, method: string): object {
  return doc.paths[path][method].requestBody.content["application/json"].schema;
}
