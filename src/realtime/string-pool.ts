/**
 * One copy of each of the strings many sockets repeat (user agents, which browsers now reduce
 * to a few per lecture hall; organisation ids; roles), so thousands of socket.data objects point
 * at one string instead of each holding a fresh copy read from a header or a store row. Bounded:
 * once full, a new string is returned as it is and not remembered.
 */
export class StringPool {
  private readonly pool = new Map<string, string>();

  constructor(private readonly maxEntries: number) {}

  intern<S extends string | null>(value: S): S {
    if (value === null) return value;
    const known = this.pool.get(value);
    if (known !== undefined) return known as S;
    if (this.pool.size < this.maxEntries) this.pool.set(value, value);
    return value;
  }

  get size(): number {
    return this.pool.size;
  }
}
