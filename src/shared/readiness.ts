/** One dependency the service needs before it takes traffic (store, later Redis, face engine). */
export interface ReadinessCheck {
  name: string;
  /** Facts shown whether or not the dependency answers, e.g. `{ kind: 'sqlite' }`. */
  facts?: Record<string, unknown>;
  /** Resolves when the dependency answers; rejects otherwise. */
  run(): Promise<void>;
}

export interface ReadinessReport {
  ok: boolean;
  checks: Record<string, Record<string, unknown> & { ok: boolean }>;
}
