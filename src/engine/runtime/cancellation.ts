import type { PreTrainedModel } from '@huggingface/transformers';
import { StudioError } from '../../shared/errors';

/** The error a cancelled run ends with (the queue records the job as cancelled, not failed). */
export function cancelled(message = 'The generation was cancelled.'): StudioError {
  return new StudioError('CANCELLED', message);
}

/** A promise that resolves after pending I/O (such as a cancel message) has been handled. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Per-step gate for decoding loops: checks the abort signal before EVERY step (so a cancel
 * observed stops the run before its next step), but yields a full event-loop turn (so that a
 * cancel message can arrive at all) only when at least `minIntervalMs` passed since the last
 * yield. A tiny model decodes a token in ~0.1 ms, where a setImmediate per token doubled the cost;
 * a real model takes ≥ 10 ms per step and so still yields every step. Worst case a cancel waits
 * minIntervalMs plus the step in flight.
 */
export class StepGate {
  private lastYield = performance.now();
  constructor(
    private readonly signal: AbortSignal,
    private readonly onCancelled: () => Error,
    private readonly minIntervalMs = 8,
  ) {}

  async pass(): Promise<void> {
    if (performance.now() - this.lastYield >= this.minIntervalMs) {
      await yieldToEventLoop();
      this.lastYield = performance.now();
    }
    if (this.signal.aborted) throw this.onCancelled();
  }
}

/**
 * Makes every forward pass of a transformers.js model (one per decoding step) go through a
 * StepGate, so a run stops before its next step once the job was cancelled. Returns the function
 * that puts the model's own forward back.
 */
export function guardSteps(model: PreTrainedModel, signal: AbortSignal): () => void {
  const original = model.forward;
  const gate = new StepGate(signal, () => cancelled());
  model.forward = async (inputs: unknown) => {
    await gate.pass();
    return original.call(model, inputs);
  };
  return () => {
    model.forward = original;
  };
}
