import { bestDistance, type Band, type Embedding, type Thresholds } from './matching.js';

/**
 * One-to-one assignment of the faces of a group photo to enrolled people. Pure: no I/O,
 * no models.
 */

export interface Candidate {
  id: string;
  embeddings: readonly Embedding[];
}

export interface Assignment {
  /** Index of the face in the probe list. */
  face: number;
  candidateId: string;
  band: Exclude<Band, 'mismatch'>;
  /** Internal: never sent to clients. */
  distance: number;
}

/**
 * Greedy by smallest distance over every (face, candidate) pair within the uncertain
 * threshold: the closest pair is taken first, then neither its face nor its candidate is used
 * again. Two faces of one person, or one face close to twins, yield one proposal, not two.
 * Ties go to the lower face index, then the lower candidate id, so the result is stable.
 * `null` probes (faces not to be matched, e.g. too small) take no part.
 */
export function assignFaces(probes: readonly (Embedding | null)[], candidates: readonly Candidate[], t: Thresholds): Assignment[] {
  const pairs: Array<{ face: number; candidateId: string; distance: number }> = [];
  probes.forEach((probe, face) => {
    if (!probe) return;
    for (const c of candidates) {
      const d = bestDistance(probe, c.embeddings);
      if (d !== null && d <= t.uncertain) pairs.push({ face, candidateId: c.id, distance: d });
    }
  });
  pairs.sort(
    (a, b) => a.distance - b.distance || a.face - b.face || (a.candidateId < b.candidateId ? -1 : a.candidateId > b.candidateId ? 1 : 0),
  );
  const usedFaces = new Set<number>();
  const usedCandidates = new Set<string>();
  const out: Assignment[] = [];
  for (const p of pairs) {
    if (usedFaces.has(p.face) || usedCandidates.has(p.candidateId)) continue;
    usedFaces.add(p.face);
    usedCandidates.add(p.candidateId);
    out.push({ ...p, band: p.distance <= t.confident ? 'confident' : 'uncertain' });
  }
  return out.sort((a, b) => a.face - b.face);
}
