import type { AgentCall, ToolName } from "./tools.js";

/**
 * When the run asks for its answer: on the last step, after a reply without a tool call, and
 * once it goes round in circles. From then on only `done` is offered.
 */
export class AnswerDemand {
  /** Only done is offered from now on. */
  private demanded = false;
  /** The model was asked for its answer after a reply without a tool call. */
  private asked = false;

  constructor(private readonly maxSteps: number) {}

  /** The tools offered at `step`: every one, or only done. */
  tools(step: number): ToolName[] | undefined {
    return this.demanded || this.isLast(step) ? ["done"] : undefined;
  }

  /** Whether the model is told that `step` is its last: not when it was already asked to answer. */
  warnLastStep(step: number): boolean {
    return this.isLast(step) && !this.demanded;
  }

  /** Whether a reply without a tool call is the answer: once asked for it, or on the last step. */
  textIsAnswer(step: number): boolean {
    return this.asked || this.isLast(step);
  }

  /** After a reply without a tool call: the next one is asked for the answer. */
  askForAnswer(): void {
    this.asked = true;
    this.demanded = true;
  }

  /** Going round in circles: only done from now on. */
  demand(): void {
    this.demanded = true;
  }

  isLast(step: number): boolean {
    return step === this.maxSteps;
  }
}

/**
 * Notices a run going round in circles: the same action with no change three times, or three
 * actions in a row that change nothing. The first time it says "nudge"; two steps later, if it
 * still goes on, "demand" (only done from then on).
 */
export class CircleWatch {
  private lastSig = "";
  private repeats = 0;
  private unchanged = 0;
  private nudgedAt = 0;

  /** Records an action and whether the page changed under it. */
  acted(call: AgentCall, changed: boolean): void {
    const sig = JSON.stringify(call);
    this.repeats = sig === this.lastSig && !changed ? this.repeats + 1 : 0;
    this.unchanged = changed ? 0 : this.unchanged + 1;
    this.lastSig = sig;
  }

  /** What to do about it after `step`'s actions. */
  verdict(step: number): "nudge" | "demand" | undefined {
    if (this.repeats < 2 && this.unchanged < 3) return undefined;
    if (!this.nudgedAt) {
      this.nudgedAt = step;
      return "nudge";
    }
    return step - this.nudgedAt >= 2 ? "demand" : undefined;
  }
}
