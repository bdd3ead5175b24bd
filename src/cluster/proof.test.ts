import { expect, test } from "vitest";
import { NodeProof } from "./proof.js";

const SECRET = "s".repeat(40);
const a = new NodeProof(SECRET, "node-1");
const b = new NodeProof(SECRET, "node-2");

test("a node's proof holds for exactly the request it was made for, for a short while", () => {
  const now = 1_800_000_000_000;
  const proof = a.sign("POST", "/v2/browser/x/execute?y=1", now);
  expect(b.verify(proof, "POST", "/v2/browser/x/execute?y=1", now + 1_000)).toBe("node-1");
  expect(b.verify(proof, "post", "/v2/browser/x/execute?y=1", now)).toBe("node-1");
  // Another request, method or time: nothing.
  expect(b.verify(proof, "DELETE", "/v2/browser/x/execute?y=1", now)).toBeUndefined();
  expect(b.verify(proof, "POST", "/v2/browser/z/execute?y=1", now)).toBeUndefined();
  expect(b.verify(proof, "POST", "/v2/browser/x/execute?y=1", now + 31_000)).toBeUndefined();
  expect(b.verify(proof, "POST", "/v2/browser/x/execute?y=1", now - 31_000)).toBeUndefined();
});

test("a proof made without the secret, or edited, is refused", () => {
  const now = Date.now();
  const forger = new NodeProof("f".repeat(40), "node-1");
  expect(b.verify(forger.sign("GET", "/v2/browser", now), "GET", "/v2/browser", now)).toBe(
    undefined,
  );
  const real = a.sign("GET", "/v2/browser", now);
  const [v, from, at, mac] = real.split(".");
  for (const edited of [
    `${v}.node-3.${at}.${mac}`,
    `${v}.${from}.${Number(at) + 1}.${mac}`,
    `${v}.${from}.${at}.${mac!.slice(0, -1)}0`,
    `${v}.${from}.${at}.${mac!.slice(0, 10)}`,
    `v2.${from}.${at}.${mac}`,
    "",
    "v1",
    `${v}.${from}.${at}.zz${mac!.slice(2)}`,
  ]) {
    expect(b.verify(edited, "GET", "/v2/browser", now)).toBeUndefined();
  }
});
