/**
 * Reference faces: enrolments and pending proposals.
 * The conventions of every port are in ./store.ts.
 */

import type { Page, PageQuery } from './common.js';

export interface FaceEnrolment {
  orgId: string;
  userId: string;
  modelId: string;
  modelVersion: string;
  /** One embedding per reference photo. */
  embeddings: number[][];
  /** Reference photos, only when config keeps them. */
  photos: Buffer[] | null;
  updatedAt: Date;
}

/**
 * A reference face someone other than an admin put forward for a student (a teacher, or the
 * student when self-enrolment needs approval). It changes nothing until an admin approves it;
 * the photos are always kept meanwhile, so the admin approves what they can see.
 */
export interface FaceProposal {
  orgId: string;
  userId: string;
  modelId: string;
  modelVersion: string;
  embeddings: number[][];
  photos: Buffer[];
  proposedBy: string;
  createdAt: Date;
}

export interface FaceRepository {
  /** Replaces the user's enrolment. */
  put(enrolment: Omit<FaceEnrolment, 'updatedAt'>): Promise<FaceEnrolment>;
  /** Sets the user's enrolment only if they have none; null, nothing written, when they have one (of two concurrent calls one wins). */
  create(enrolment: Omit<FaceEnrolment, 'updatedAt'>): Promise<FaceEnrolment | null>;
  get(orgId: string, userId: string): Promise<FaceEnrolment | null>;
  getMany(orgId: string, userIds: string[]): Promise<FaceEnrolment[]>;
  delete(orgId: string, userId: string): Promise<boolean>;
}

/** At most one pending proposal per student: a new one replaces the previous. */
export interface FaceProposalRepository {
  put(proposal: FaceProposal): Promise<FaceProposal>;
  get(orgId: string, userId: string): Promise<FaceProposal | null>;
  /** Oldest first. */
  list(orgId: string, page: PageQuery): Promise<Page<FaceProposal>>;
  /** Removes and returns the proposal; of two concurrent calls only one gets it. */
  take(orgId: string, userId: string): Promise<FaceProposal | null>;
}
