import type { DomainDeps } from './deps.js';
import { CheckinService } from './checkins/checkin-service.js';
import { ClassPhotoService, type ClassPhotoOptions } from './face/class-photo-service.js';
import { loadFaceConfig } from '../face/face-config.js';
import { CloseScheduler } from './sessions/close-scheduler.js';
import { SessionCloser } from './sessions/session-closer.js';
import { SessionService } from './sessions/session-service.js';

export interface LiveAttendance {
  sessions: SessionService;
  checkins: CheckinService;
  classPhoto: ClassPhotoService;
  closer: SessionCloser;
  scheduler: CloseScheduler;
}

/**
 * The live-session domain, wired from its dependencies. `classPhoto` defaults to the FACE_*
 * defaults of src/face/face-config.ts.
 */
export function createLiveAttendance(
  deps: DomainDeps,
  scheduling: { owner: string; intervalMs: number },
  classPhoto: ClassPhotoOptions = classPhotoDefaults(),
): LiveAttendance {
  const closer = new SessionCloser(deps);
  return {
    sessions: new SessionService(deps),
    checkins: new CheckinService(deps),
    classPhoto: new ClassPhotoService(deps, classPhoto),
    closer,
    scheduler: new CloseScheduler(deps.store, closer, deps.logger, deps.now, scheduling),
  };
}

function classPhotoDefaults(): ClassPhotoOptions {
  const face = loadFaceConfig({});
  return { minFacePx: face.gates.minFacePx, maxFaces: face.maxFaces };
}
