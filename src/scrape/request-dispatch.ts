import { z } from "zod";

/**
 * Runs `schema` on `value` from inside a transform and reports its issues as the caller's, each
 * message prefixed with `label`. Used where a zod union would fail with its bare "Invalid input":
 * the caller picks the one schema that applies, so every message says what is wrong.
 */
export function parseWith<S extends z.ZodTypeAny>(
  schema: S,
  value: unknown,
  ctx: z.RefinementCtx,
  label?: string,
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    const message = label ? `${label}: ${issue.message}` : issue.message;
    ctx.addIssue({ ...issue, message } as z.IssueData);
  }
  return z.NEVER;
}

/** The `type` of a `{type: ...}` object, or undefined for anything else. */
export function typeOf(value: unknown): unknown {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as { type?: unknown }).type
    : undefined;
}
