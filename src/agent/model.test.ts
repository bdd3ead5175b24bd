import { APICallError, RetryError } from "ai";
import { describe, expect, it } from "vitest";
import { describeModelError } from "./model.js";

const URL = "http://10.1.2.3:8000/v1/chat/completions";

function unreachable(cause: Error): APICallError {
  return new APICallError({
    message: `Cannot connect to API: ${cause.message}`,
    url: URL,
    requestBodyValues: {},
    cause,
    isRetryable: true,
  });
}

describe("describeModelError", () => {
  it("never tells the tenant where the model API is", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 10.1.2.3:8000"), {
      code: "ECONNREFUSED",
    });
    for (const err of [
      unreachable(refused),
      new RetryError({
        message: "failed",
        reason: "maxRetriesExceeded",
        errors: [unreachable(refused)],
      }),
      unreachable(new Error("getaddrinfo ENOTFOUND models.internal.example")),
    ]) {
      const text = describeModelError(err);
      expect(text).toMatch(/could not be reached/);
      expect(text).not.toMatch(/10\.1\.2\.3|8000|models\.internal|http:/);
    }
    expect(describeModelError(unreachable(refused))).toContain("ECONNREFUSED");
  });

  it("passes on the provider's own message for an HTTP error", () => {
    const err = new APICallError({
      message: "Bad Request",
      url: URL,
      requestBodyValues: {},
      statusCode: 400,
      responseBody: JSON.stringify({ error: { message: "context length exceeded" } }),
    });
    expect(describeModelError(err)).toBe(
      "the model API answered HTTP 400: context length exceeded",
    );
  });
});
