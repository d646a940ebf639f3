/** One dependency the service needs before it takes traffic (store, later Redis, face engine). */
export interface ReadinessCheck {
  name: string;
  /** Facts shown whether or not the dependency answers, e.g. `{ kind: 'sqlite' }`. Public: no paths, no addresses. */
  facts?: Record<string, unknown>;
  /**
   * The operator's detail (a load error naming server paths): shown to a bearer of the metrics
   * token and on the metrics port, never on the public /readyz.
   */
  detail?: Record<string, unknown>;
  /** Resolves when the dependency answers; rejects otherwise. */
  run(): Promise<void>;
}

export type ReadinessChecks = Record<string, Record<string, unknown> & { ok: boolean }>;

export interface ReadinessReport {
  ok: boolean;
  /** What the public /readyz shows: each check's facts and whether it passes. */
  checks: ReadinessChecks;
  /** The same with each check's operator detail added. */
  operator: ReadinessChecks;
}
