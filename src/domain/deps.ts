import type { Logger } from '../logger.js';
import type { Store } from '../store/types.js';
import type { EventPublisher } from './events.js';
import type { LiveState } from './live-state.js';
import type { Capabilities } from './sessions/policy.js';

/** What the live-attendance domain needs; transports and tests supply it. */
export interface DomainDeps {
  store: Store;
  events: EventPublisher;
  live: LiveState;
  logger: Logger;
  now: () => Date;
  capabilities: Capabilities;
  settings: {
    codePeriodS: number;
    locationMaxAgeS: number;
    defaultTimezone: string;
  };
}
