import type { AnalyseSuccess, FaceFailureReason } from '../../face/face-types.js';
import { distance, type Thresholds } from '../../face/matching.js';
import { ReasonCodes, type ReasonCode } from '../../shared/reasons.js';
import type { FaceEnrolment, Store, User } from '../../store/types.js';
import type { Actor } from '../actor.js';
import { AppError } from '../app-error.js';
import { audit } from '../audit-log.js';
import type { RateLimiter } from '../rate-limiter.js';
import type { FaceEngine } from './face-engine.js';
import { consumeFaceUpload } from './upload-limit.js';

export const MIN_ENROLMENT_PHOTOS = 1;
export const MAX_ENROLMENT_PHOTOS = 5;

const STAFF_ONLY_CHANGE = 'Your face is already enrolled; ask a teacher or an admin to replace or remove it.';

/** What clients learn about an enrolment: never the embeddings or the photos. */
export interface EnrolmentStatus {
  userId: string;
  enrolled: boolean;
  modelId: string | null;
  modelVersion: string | null;
  photoCount: number;
  photosKept: boolean;
  updatedAt: Date | null;
}

/** Why one reference photo was refused; `index` is its position in the upload (0-based). */
export interface PhotoRefusal {
  index: number;
  reason: FaceFailureReason | Extract<ReasonCode, 'ENROLMENT_INCONSISTENT'>;
  message: string;
}

export interface FaceEnrolmentDeps {
  store: Store;
  /** Absent when face verification is disabled: enrolment then answers UNAVAILABLE. */
  engine: FaceEngine | undefined;
  /** Keep the reference photos besides their embeddings (FACE_KEEP_PHOTOS). */
  keepPhotos: boolean;
  /** Uploads per user (shared with class photos); absent means unlimited. */
  limiter?: RateLimiter;
  /** Photos of one upload must agree with each other within the uncertain band. */
  thresholds: Thresholds;
  clock: () => Date;
}

/**
 * Enrolment of reference faces: the student themself, a teacher of one of the student's
 * subjects, or an admin uploads 1 to 5 photos; every photo must hold exactly one usable face
 * and all of them the same person, or nothing is stored. A new enrolment replaces the old one.
 *
 * A student may make their own first enrolment, but not replace or remove an existing one:
 * otherwise a student could swap in a friend's face at will and send the friend to check in.
 * Replacing goes through a teacher or an admin, who can see the person.
 */
export class FaceEnrolmentService {
  constructor(private readonly deps: FaceEnrolmentDeps) {}

  async status(actor: Actor, userId: string): Promise<EnrolmentStatus> {
    await this.authorise(actor, userId);
    return toStatus(userId, await this.deps.store.faces.get(actor.orgId, userId));
  }

  async enrol(actor: Actor, userId: string, photos: readonly Uint8Array[]): Promise<EnrolmentStatus> {
    const student = await this.authorise(actor, userId);
    if (photos.length < MIN_ENROLMENT_PHOTOS || photos.length > MAX_ENROLMENT_PHOTOS) {
      throw new AppError(
        'VALIDATION_FAILED',
        `Upload ${MIN_ENROLMENT_PHOTOS} to ${MAX_ENROLMENT_PHOTOS} reference photos.`,
        { photos: photos.length },
      );
    }
    const engine = this.deps.engine;
    if (!engine) throw new AppError('UNAVAILABLE', 'Face verification is disabled on this service.');
    const previous = await this.deps.store.faces.get(actor.orgId, student.id);
    if (previous && actor.role === 'student') throw new AppError('FORBIDDEN', STAFF_ONLY_CHANGE);
    await consumeFaceUpload(this.deps.limiter, actor);

    // Copied first: the pool transfers an image's buffer to its worker, leaving the caller's view empty.
    const kept = this.deps.keepPhotos ? photos.map((p) => Buffer.from(p)) : null;
    // The pool queues them; a BUSY or UNAVAILABLE rejection propagates with its retry hint.
    const results = await Promise.all(photos.map((p) => engine.analyse(p, 'single')));
    const refusals: PhotoRefusal[] = [];
    const analysed: AnalyseSuccess[] = [];
    results.forEach((r, index) => {
      if (r.ok) analysed.push(r);
      else refusals.push({ index, reason: r.reason, message: r.message });
    });
    if (refusals.length === 0) refusals.push(...this.inconsistent(analysed));
    if (refusals.length > 0) {
      throw new AppError('FACE_ENROLMENT_REFUSED', undefined, { photos: refusals });
    }

    const first = analysed[0]!;
    const saved = await this.deps.store.faces.put({
      orgId: actor.orgId,
      userId: student.id,
      modelId: first.modelId,
      modelVersion: first.modelVersion,
      embeddings: analysed.map((a) => Array.from(a.faces[0]!.embedding)),
      photos: kept,
    });
    await audit(this.deps.store, actor, this.deps.clock(), {
      entityType: 'user',
      entityId: student.id,
      action: previous ? 'face.reenrol' : 'face.enrol',
      from: previous ? summary(previous) : null,
      to: summary(saved),
    });
    return toStatus(student.id, saved);
  }

  /** Removes the enrolment; later selfie check-ins of this student go to the teacher. */
  async remove(actor: Actor, userId: string): Promise<boolean> {
    await this.authorise(actor, userId);
    const previous = await this.deps.store.faces.get(actor.orgId, userId);
    if (!previous) return false;
    if (actor.role === 'student') throw new AppError('FORBIDDEN', STAFF_ONLY_CHANGE);
    const removed = await this.deps.store.faces.delete(actor.orgId, userId);
    if (removed) {
      await audit(this.deps.store, actor, this.deps.clock(), {
        entityType: 'user',
        entityId: userId,
        action: 'face.delete',
        from: summary(previous),
        to: null,
      });
    }
    return removed;
  }

  // Resolves the student the actor may manage. Outsiders learn nothing: another organisation's
  // user or a non-student is NOT_FOUND; another student is FORBIDDEN.
  private async authorise(actor: Actor, userId: string): Promise<User> {
    if (actor.role === 'student' && actor.id !== userId) throw new AppError('FORBIDDEN');
    const user = await this.deps.store.users.get(actor.orgId, userId);
    if (!user || user.role !== 'student') throw new AppError('NOT_FOUND', 'No such student.');
    if (actor.role === 'teacher') {
      const shared = await this.deps.store.subjects.list(actor.orgId, {
        teacherId: actor.id,
        studentId: userId,
        limit: 1,
        offset: 0,
      });
      if (shared.total === 0) throw new AppError('NOT_SUBJECT_TEACHER', 'You teach no subject of this student.');
    }
    return user;
  }

  // A set that mixes people (a friend in one photo) would let either of them check in as the
  // student: each photo must lie within the uncertain band of at least half of the other photos
  // (and of at least one), so the odd photo out is the one refused, and an even split refuses all.
  private inconsistent(analysed: readonly AnalyseSuccess[]): PhotoRefusal[] {
    if (analysed.length < 2) return [];
    const embeddings = analysed.map((a) => a.faces[0]!.embedding);
    const limit = this.deps.thresholds.uncertain;
    const refusals: PhotoRefusal[] = [];
    embeddings.forEach((e, index) => {
      const others = embeddings.filter((_, j) => j !== index).map((o) => distance(e, o));
      // Within the band of the majority of the others: one odd photo is the one refused.
      const close = others.filter((d) => d <= limit).length;
      if (close * 2 < others.length || close === 0) {
        refusals.push({
          index,
          reason: 'ENROLMENT_INCONSISTENT',
          message: ReasonCodes.ENROLMENT_INCONSISTENT,
        });
      }
    });
    return refusals;
  }
}

function toStatus(userId: string, e: FaceEnrolment | null): EnrolmentStatus {
  return {
    userId,
    enrolled: e !== null,
    modelId: e?.modelId ?? null,
    modelVersion: e?.modelVersion ?? null,
    photoCount: e?.embeddings.length ?? 0,
    photosKept: (e?.photos?.length ?? 0) > 0,
    updatedAt: e?.updatedAt ?? null,
  };
}

/** What an audit entry keeps of an enrolment: never the embeddings. */
function summary(e: FaceEnrolment): { modelId: string; modelVersion: string; photoCount: number } {
  return { modelId: e.modelId, modelVersion: e.modelVersion, photoCount: e.embeddings.length };
}
