/** One deadline a component asked for: how long it wanted, and the test's hand on it. */
export interface HeldDeadline {
  ms: number;
  signal: AbortSignal;
  /** Ends the wait now, as the timer would have, with a TimeoutError like AbortSignal.timeout's. */
  expire(): void;
}

/**
 * Deadlines that pass only when the test says so, in place of `AbortSignal.timeout`. A test then
 * waits for the event it means (the deadline passed, a slow worker answered) rather than for real
 * time, which a loaded machine stretches in either direction.
 */
export class HeldDeadlines {
  readonly asked: HeldDeadline[] = [];

  /** Pass as the component's deadline factory. */
  readonly make = (ms: number): AbortSignal => {
    const controller = new AbortController();
    this.asked.push({
      ms,
      signal: controller.signal,
      expire: () => controller.abort(new DOMException('The deadline held by the test was expired.', 'TimeoutError')),
    });
    return controller.signal;
  };

  /** The latest deadline asked for; fails the test when none was. */
  last(): HeldDeadline {
    const deadline = this.asked.at(-1);
    if (!deadline) throw new Error('no deadline was asked for');
    return deadline;
  }
}
