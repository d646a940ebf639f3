/** Promises still out: the open loop's window, and what the end of a load run waits for. */
export class InFlight {
  private readonly out = new Set<Promise<unknown>>();

  get size(): number {
    return this.out.size;
  }

  add(p: Promise<unknown>): void {
    const tracked: Promise<unknown> = p.finally(() => this.out.delete(tracked));
    this.out.add(tracked);
  }

  async settled(): Promise<void> {
    await Promise.all(this.out);
  }
}
