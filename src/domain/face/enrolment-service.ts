import type { SelfEnrolmentMode } from '../../face/face-config.js';
import type { AnalyseSuccess, FaceFailureReason } from './face-types.js';
import { bandOf, bestDistance, distance, type Band, type Thresholds } from './matching.js';
import type { FaceChange } from '../../shared/events.js';
import { ReasonCodes, type ReasonCode } from '../../shared/reasons.js';
import type { Page, PageQuery } from '../ports/common.js';
import type { FaceEnrolment, FaceProposal } from '../ports/faces.js';
import type { Store } from '../ports/store.js';
import type { User } from '../ports/users.js';
import { requireRole, type Actor } from '../actor.js';
import { AppError } from '../../shared/app-error.js';
import { audit } from '../audit-log.js';
import type { EventPublisher } from '../events.js';
import type { RateLimiter } from '../rate-limiter.js';
import type { FaceEngine } from './face-engine.js';
import { hasFaceConsent } from '../privacy/consent.js';
import { consumeFaceUpload } from './upload-limit.js';
import type { AuditAction } from '../../shared/audit.js';

export const MIN_ENROLMENT_PHOTOS = 1;
export const MAX_ENROLMENT_PHOTOS = 5;

/** What clients learn about a pending proposal: never its embeddings. */
export interface ProposalSummary {
  proposedBy: string;
  createdAt: Date;
  photoCount: number;
}

/** What clients learn about an enrolment: never the embeddings or the photos. */
export interface EnrolmentStatus {
  userId: string;
  enrolled: boolean;
  modelId: string | null;
  modelVersion: string | null;
  photoCount: number;
  photosKept: boolean;
  updatedAt: Date | null;
  /**
   * The enrolment was made with another face model than the one running (FACE_EMBEDDER changed):
   * it is never compared, selfies go to the teacher as FACE_REENROL_NEEDED until the student is
   * enrolled again. False while the engine has not reported its model.
   */
  reenrolNeeded: boolean;
  /** A replacement waiting for an admin; the enrolment above stays in force until approved. */
  proposal: ProposalSummary | null;
}

/** An upload either changed the reference at once or waits for an admin's approval. */
export interface EnrolResult {
  outcome: 'enrolled' | 'proposed';
  status: EnrolmentStatus;
}

/** A pending proposal as an admin reviews it. */
export interface ProposalView extends ProposalSummary {
  userId: string;
  studentName: string;
  studentNumber: string | null;
  proposerName: string;
  proposerRole: User['role'] | null;
  /**
   * How the proposed faces compare with the reference in force: `mismatch` is a different
   * person, the case an admin must look at twice. Null without a comparable enrolment.
   */
  matchesCurrent: Band | null;
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
  /** What a student's own upload does (FACE_SELF_ENROLMENT). */
  selfEnrolment: SelfEnrolmentMode;
  /** Uploads per user (shared with class photos), counted by `admit`; absent means unlimited. */
  limiter?: RateLimiter;
  /** Photos of one upload must agree with each other within the uncertain band. */
  thresholds: Thresholds;
  /** Refuse references for a student without a standing consent (FACE_CONSENT_REQUIRED); absent means not required. */
  consentRequired?: boolean;
  /** Tells the student whenever their reference changes or a change is proposed. */
  events: EventPublisher;
  clock: () => Date;
}

type Route = 'direct' | 'proposal';

/** Audit actions that set a student's reference: once one is on record, the student only proposes. */
const REFERENCE_SET: ReadonlySet<string> = new Set<AuditAction>(['face.enrol', 'face.reenrol', 'face.proposal.approve']);

/**
 * The reference faces selfie check-ins are matched against, and who may change them.
 *
 * A reference decides who can be marked present as this student in every subject, so only an
 * admin sets, replaces or removes one directly. A teacher of one of the student's subjects
 * proposes one (the previous reference stays in force until an admin approves); a student may
 * make their own first enrolment when FACE_SELF_ENROLMENT allows it, and proposes later ones.
 * Every change and proposal is audited and pushed to the student.
 */
export class FaceEnrolmentService {
  constructor(private readonly deps: FaceEnrolmentDeps) {}

  async status(actor: Actor, userId: string): Promise<EnrolmentStatus> {
    await this.authorise(actor, userId);
    const [enrolment, proposal] = await Promise.all([
      this.deps.store.faces.get(actor.orgId, userId),
      this.deps.store.faceProposals.get(actor.orgId, userId),
    ]);
    return toStatus(userId, enrolment, proposal, this.deps.engine?.status().modelId ?? null);
  }

  /**
   * Everything an upload is refused for before its photos are read (access, the caller's
   * right to upload for this student, the engine), then counts it against the caller's upload
   * budget. Network transports call it before receiving the bytes, so a refused caller costs
   * no memory; `enrol` itself counts nothing (the bulk CLI runs a pool of its own).
   */
  async admit(actor: Actor, userId: string): Promise<void> {
    const student = await this.authorise(actor, userId);
    await this.route(actor, student);
    if (!this.deps.engine) throw new AppError('UNAVAILABLE', 'Face verification is disabled on this service.');
    await consumeFaceUpload(this.deps.limiter, actor);
  }

  async enrol(actor: Actor, userId: string, photos: readonly Uint8Array[]): Promise<EnrolResult> {
    const student = await this.authorise(actor, userId);
    if (photos.length < MIN_ENROLMENT_PHOTOS || photos.length > MAX_ENROLMENT_PHOTOS) {
      throw new AppError('VALIDATION_FAILED', `Upload ${MIN_ENROLMENT_PHOTOS} to ${MAX_ENROLMENT_PHOTOS} reference photos.`, {
        photos: photos.length,
      });
    }
    // Refused here before any analysis; what is allowed is decided again once it is done.
    await this.route(actor, student);
    const engine = this.deps.engine;
    if (!engine) throw new AppError('UNAVAILABLE', 'Face verification is disabled on this service.');

    // Copied first: the pool transfers an image's buffer to its worker, leaving the caller's view empty.
    const copies = photos.map((p) => Buffer.from(p));
    const analysed = await this.analyse(engine, photos);
    const first = analysed[0]!;
    const candidate = {
      orgId: actor.orgId,
      userId: student.id,
      modelId: first.modelId,
      modelVersion: first.modelVersion,
      embeddings: analysed.map((a) => Array.from(a.faces[0]!.embedding)),
    };

    // The analysis takes seconds when the pool is busy: a reference set or removed meanwhile (an
    // admin's, another upload of the student's) decides what this upload may still do. A
    // student's first enrolment is written only if there is still none when it lands, else it
    // is a proposal: a friend's face uploaded just before the admin's enrolment must not replace it.
    let route = await this.route(actor, student);
    if (route === 'direct' && actor.role !== 'admin') {
      const created = await this.deps.store.faces.create({ ...candidate, photos: this.deps.keepPhotos ? copies : null });
      if (created) {
        await this.record(actor, student.id, 'face.enrol', null, summary(created), 'enrolled');
        return { outcome: 'enrolled', status: await this.status(actor, student.id) };
      }
      route = 'proposal';
    }

    if (route === 'proposal') {
      const proposal = await this.deps.store.faceProposals.put({
        ...candidate,
        photos: copies,
        proposedBy: actor.id,
        createdAt: this.deps.clock(),
      });
      await this.record(actor, student.id, 'face.propose', null, proposalSummary(proposal), 'proposed');
      return { outcome: 'proposed', status: await this.status(actor, student.id) };
    }
    const previous = await this.deps.store.faces.get(actor.orgId, student.id);
    const saved = await this.deps.store.faces.put({ ...candidate, photos: this.deps.keepPhotos ? copies : null });
    await this.record(
      actor,
      student.id,
      previous ? 'face.reenrol' : 'face.enrol',
      previous ? summary(previous) : null,
      summary(saved),
      previous ? 'replaced' : 'enrolled',
    );
    return { outcome: 'enrolled', status: await this.status(actor, student.id) };
  }

  /** Removes the enrolment (admins only); later selfie check-ins of this student go to the teacher. */
  async remove(actor: Actor, userId: string): Promise<boolean> {
    await this.authorise(actor, userId);
    requireRole(actor, 'admin');
    const previous = await this.deps.store.faces.get(actor.orgId, userId);
    if (!previous) return false;
    const removed = await this.deps.store.faces.delete(actor.orgId, userId);
    if (removed) await this.record(actor, userId, 'face.delete', summary(previous), null, 'removed');
    return removed;
  }

  /** Pending proposals of the organisation, oldest first (admins only). */
  async listProposals(actor: Actor, page: PageQuery): Promise<Page<ProposalView>> {
    requireRole(actor, 'admin');
    const proposals = await this.deps.store.faceProposals.list(actor.orgId, page);
    const ids = [...new Set(proposals.items.flatMap((p) => [p.userId, p.proposedBy]))];
    const [users, enrolments] = await Promise.all([
      this.deps.store.users.getMany(actor.orgId, ids),
      this.deps.store.faces.getMany(
        actor.orgId,
        proposals.items.map((p) => p.userId),
      ),
    ]);
    const byId = new Map(users.map((u) => [u.id, u]));
    const current = new Map(enrolments.map((e) => [e.userId, e]));
    return {
      total: proposals.total,
      items: proposals.items.map((p) => this.view(p, byId, current.get(p.userId) ?? null)),
    };
  }

  /** One pending proposal with its comparison to the reference in force (admins only). */
  async getProposal(actor: Actor, userId: string): Promise<ProposalView> {
    requireRole(actor, 'admin');
    const proposal = await this.pending(actor, userId);
    const [users, current] = await Promise.all([
      this.deps.store.users.getMany(actor.orgId, [proposal.userId, proposal.proposedBy]),
      this.deps.store.faces.get(actor.orgId, userId),
    ]);
    return this.view(proposal, new Map(users.map((u) => [u.id, u])), current);
  }

  /** A photo of a pending proposal, so the admin approves a face they have seen (admins only). */
  async proposalPhoto(actor: Actor, userId: string, index: number): Promise<Buffer> {
    requireRole(actor, 'admin');
    const photo = (await this.pending(actor, userId)).photos[index];
    if (!photo) throw new AppError('NOT_FOUND', 'The proposal has no photo at this index.');
    return photo;
  }

  /** Makes the pending proposal the student's reference (admins only). */
  async approve(actor: Actor, userId: string): Promise<EnrolmentStatus> {
    requireRole(actor, 'admin');
    const student = await this.authorise(actor, userId);
    await this.requireConsent(student);
    const proposal = await this.deps.store.faceProposals.take(actor.orgId, student.id);
    if (!proposal) throw new AppError('NOT_FOUND', 'The student has no pending face proposal.');
    const previous = await this.deps.store.faces.get(actor.orgId, student.id);
    const saved = await this.deps.store.faces.put({
      orgId: proposal.orgId,
      userId: proposal.userId,
      modelId: proposal.modelId,
      modelVersion: proposal.modelVersion,
      embeddings: proposal.embeddings,
      photos: this.deps.keepPhotos ? proposal.photos : null,
    });
    await this.record(
      actor,
      student.id,
      'face.proposal.approve',
      previous ? summary(previous) : null,
      { ...summary(saved), proposedBy: proposal.proposedBy },
      previous ? 'replaced' : 'enrolled',
    );
    return this.status(actor, student.id);
  }

  /** Discards the pending proposal: an admin rejects it, or whoever proposed it withdraws it. */
  async rejectProposal(actor: Actor, userId: string): Promise<void> {
    const student = await this.authorise(actor, userId);
    const pending = await this.pending(actor, student.id);
    if (actor.role !== 'admin' && pending.proposedBy !== actor.id) {
      throw new AppError('FORBIDDEN', 'Only an admin or whoever proposed it can discard a proposal.');
    }
    const taken = await this.deps.store.faceProposals.take(actor.orgId, student.id);
    if (!taken) throw new AppError('NOT_FOUND', 'The student has no pending face proposal.');
    const action = actor.role === 'admin' ? 'face.proposal.reject' : 'face.proposal.withdraw';
    await this.record(actor, student.id, action, proposalSummary(taken), null, 'proposal-rejected');
  }

  // Resolves the student the actor may see. Outsiders learn nothing: another organisation's
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

  // Whether the actor's upload changes the reference or waits for an admin.
  private async route(actor: Actor, student: User): Promise<Route> {
    await this.requireConsent(student);
    if (actor.role === 'admin') return 'direct';
    if (actor.role === 'teacher') return 'proposal';
    const mode = this.deps.selfEnrolment;
    if (mode === 'off') {
      throw new AppError('FORBIDDEN', 'Students cannot upload their own face here; ask a teacher or an admin.');
    }
    if (mode === 'approval') return 'proposal';
    // A first enrolment is the student's own; replacing it would let them swap in a friend's face.
    // First ever: withdrawing consent (which deletes the reference) and giving it again, or an
    // admin's removal, must not hand the student a fresh first enrolment.
    if (await this.deps.store.faces.get(actor.orgId, student.id)) return 'proposal';
    return (await this.hadReference(student)) ? 'proposal' : 'direct';
  }

  /** Whether a reference was ever set for the student: the audit trail keeps every one. */
  private async hadReference(student: User): Promise<boolean> {
    const entries = await this.deps.store.audit.listForEntity(student.orgId, 'user', student.id);
    return entries.some((e) => REFERENCE_SET.has(e.action));
  }

  private async requireConsent(student: User): Promise<void> {
    if (!this.deps.consentRequired) return;
    if (!(await hasFaceConsent(this.deps.store, student.orgId, student.id))) {
      throw new AppError('FACE_CONSENT_REQUIRED', undefined, { userId: student.id });
    }
  }

  private async pending(actor: Actor, userId: string): Promise<FaceProposal> {
    const proposal = await this.deps.store.faceProposals.get(actor.orgId, userId);
    if (!proposal) throw new AppError('NOT_FOUND', 'The student has no pending face proposal.');
    return proposal;
  }

  // Every photo analysed; any refusal, or a set that mixes people, refuses the whole upload.
  private async analyse(engine: FaceEngine, photos: readonly Uint8Array[]): Promise<AnalyseSuccess[]> {
    // The pool queues them; a BUSY or UNAVAILABLE rejection propagates with its retry hint.
    const results = await Promise.all(photos.map((p) => engine.analyse(p, 'single')));
    const refusals: PhotoRefusal[] = [];
    const analysed: AnalyseSuccess[] = [];
    results.forEach((r, index) => {
      if (r.ok) analysed.push(r);
      else refusals.push({ index, reason: r.reason, message: r.message });
    });
    if (refusals.length === 0) refusals.push(...this.inconsistent(analysed));
    if (refusals.length > 0) throw new AppError('FACE_ENROLMENT_REFUSED', undefined, { photos: refusals });
    return analysed;
  }

  private async record(actor: Actor, userId: string, action: AuditAction, from: unknown, to: unknown, change: FaceChange): Promise<void> {
    const at = this.deps.clock();
    await audit(this.deps.store, actor, at, { entityType: 'user', entityId: userId, action, from, to });
    this.deps.events.publish({
      type: 'face.changed',
      orgId: actor.orgId,
      view: { userId, change, byRole: actor.role, at: at.toISOString() },
    });
  }

  private view(p: FaceProposal, users: Map<string, User>, current: FaceEnrolment | null): ProposalView {
    const student = users.get(p.userId);
    const proposer = users.get(p.proposedBy);
    return {
      userId: p.userId,
      studentName: student?.name ?? '',
      studentNumber: student?.studentNumber ?? null,
      ...proposalSummary(p),
      proposerName: proposer?.name ?? '',
      proposerRole: proposer?.role ?? null,
      matchesCurrent: this.compare(p, current),
    };
  }

  private compare(p: FaceProposal, current: FaceEnrolment | null): Band | null {
    if (!current || current.modelId !== p.modelId || current.modelVersion !== p.modelVersion) return null;
    const distances = p.embeddings.map((e) => bestDistance(e, current.embeddings)).filter((d): d is number => d !== null);
    return distances.length === 0 ? null : bandOf(Math.min(...distances), this.deps.thresholds);
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

function toStatus(userId: string, e: FaceEnrolment | null, p: FaceProposal | null, engineModel: string | null): EnrolmentStatus {
  return {
    userId,
    enrolled: e !== null,
    modelId: e?.modelId ?? null,
    modelVersion: e?.modelVersion ?? null,
    photoCount: e?.embeddings.length ?? 0,
    photosKept: (e?.photos?.length ?? 0) > 0,
    updatedAt: e?.updatedAt ?? null,
    reenrolNeeded: e !== null && engineModel !== null && e.modelId !== engineModel,
    proposal: p ? proposalSummary(p) : null,
  };
}

function proposalSummary(p: FaceProposal): ProposalSummary {
  return { proposedBy: p.proposedBy, createdAt: p.createdAt, photoCount: p.embeddings.length };
}

/** What an audit entry keeps of an enrolment: never the embeddings. */
function summary(e: FaceEnrolment): { modelId: string; modelVersion: string; photoCount: number } {
  return { modelId: e.modelId, modelVersion: e.modelVersion, photoCount: e.embeddings.length };
}
