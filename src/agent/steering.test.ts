import { expect, test } from "vitest";
import { AnswerDemand, CircleWatch } from "./steering.js";
import type { AgentCall } from "./tools.js";

const click = { tool: "click", ref: "e1" } as AgentCall;
const other = { tool: "click", ref: "e2" } as AgentCall;

test("every tool is offered until the last step, which offers only done and says so", () => {
  const demand = new AnswerDemand(3);
  expect(demand.tools(1)).toBeUndefined();
  expect(demand.warnLastStep(2)).toBe(false);
  expect(demand.tools(3)).toEqual(["done"]);
  expect(demand.warnLastStep(3)).toBe(true);
  expect(demand.textIsAnswer(2)).toBe(false);
  expect(demand.textIsAnswer(3)).toBe(true);
});

test("after a reply without a tool call, only done is offered and plain text is the answer", () => {
  const demand = new AnswerDemand(10);
  demand.askForAnswer();
  expect(demand.tools(2)).toEqual(["done"]);
  expect(demand.textIsAnswer(2)).toBe(true);
  // Already asked: the last step does not say it again.
  expect(demand.warnLastStep(10)).toBe(false);
});

test("going round in circles offers only done, but plain text is not yet the answer", () => {
  const demand = new AnswerDemand(10);
  demand.demand();
  expect(demand.tools(2)).toEqual(["done"]);
  expect(demand.textIsAnswer(2)).toBe(false);
});

test("the same action with no change three times is a nudge, then two steps on a demand", () => {
  const watch = new CircleWatch();
  watch.acted(click, false);
  expect(watch.verdict(1)).toBeUndefined();
  watch.acted(click, false);
  expect(watch.verdict(2)).toBeUndefined();
  watch.acted(click, false);
  expect(watch.verdict(3)).toBe("nudge");
  watch.acted(click, false);
  expect(watch.verdict(4)).toBeUndefined();
  watch.acted(click, false);
  expect(watch.verdict(5)).toBe("demand");
});

test("three different actions that change nothing count too; a change starts over", () => {
  const watch = new CircleWatch();
  watch.acted(click, false);
  watch.acted(other, false);
  watch.acted(click, true);
  expect(watch.verdict(1)).toBeUndefined();
  watch.acted(other, false);
  watch.acted(click, false);
  expect(watch.verdict(2)).toBeUndefined();
  watch.acted(other, false);
  expect(watch.verdict(3)).toBe("nudge");
});
