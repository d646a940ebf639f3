import type { DomainDeps } from './deps.js';
import { CheckinService } from './checkins/checkin-service.js';
import { ClassPhotoService, type ClassPhotoOptions } from './face/class-photo-service.js';
import { CloseScheduler, type CloseSchedulerOptions } from './sessions/close-scheduler.js';
import { SessionCloser } from './sessions/session-closer.js';
import { SessionLifecycle } from './sessions/session-lifecycle.js';
import { SessionOpener } from './sessions/session-opener.js';
import { SessionService } from './sessions/session-service.js';

export interface LiveAttendance {
  sessions: SessionService;
  checkins: CheckinService;
  classPhoto: ClassPhotoService;
  closer: SessionCloser;
  lifecycle: SessionLifecycle;
  scheduler: CloseScheduler;
}

/** The live-session domain, wired from its dependencies. */
export function createLiveAttendance(deps: DomainDeps, scheduling: CloseSchedulerOptions, classPhoto: ClassPhotoOptions): LiveAttendance {
  const closer = new SessionCloser(deps);
  return {
    sessions: new SessionService(deps),
    checkins: new CheckinService(deps),
    classPhoto: new ClassPhotoService(deps, classPhoto),
    closer,
    lifecycle: new SessionLifecycle(deps),
    scheduler: new CloseScheduler(deps.store, closer, deps.logger, deps.now, scheduling, new SessionOpener(deps)),
  };
}
