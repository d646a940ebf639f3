import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FaceConfig } from '../../src/face/face-config.js';
import { FacePool } from '../../src/face/face-pool.js';
import type { AnalyseSuccess } from '../../src/domain/face/face-types.js';
import { bandOf, distance, type Band } from '../../src/domain/face/matching.js';
import type { Store } from '../../src/domain/ports/store.js';
import type { User } from '../../src/domain/ports/users.js';

/** One LFW person a student is enrolled as: their first image is the reference, the second the selfie. */
export interface ReferencePerson {
  name: string;
  enrolment: number[];
  /** The selfie's embedding: what the service stores as the session probe of an accepted selfie. */
  probe: number[];
  selfie: Uint8Array;
  /** Band of the selfie against the enrolment, computed here with the same thresholds. */
  expected: Band;
}

/** A person enrolled as nobody, whose photo is farther than the uncertain band from everyone enrolled. */
export interface ImpostorPhoto {
  name: string;
  selfie: Uint8Array;
}

export interface ReferenceFaces {
  modelId: string;
  modelVersion: string;
  people: ReferencePerson[];
  impostors: ImpostorPhoto[];
  /** Folders analysed but skipped (an image without exactly one usable face). */
  skipped: number;
  elapsedMs: number;
}

export interface PrepareOptions {
  /** lfw-devtrain: one folder per person, NAME/NAME_NNNN.jpg (numbers have gaps). */
  dir: string;
  people: number;
  impostors: number;
  /** FACE_* settings of the nodes; pool size and queue are overridden. */
  config: FaceConfig;
  threads: number;
  progress(line: string): void;
}

/**
 * Analyses reference photos once, in this process, with the engine the nodes run. People come
 * in name order (a fixed set from run to run); a person is kept only when both images hold one
 * usable face. Impostors are later people whose image is beyond the uncertain distance of every
 * enrolment and probe: the service must reject them FACE_MISMATCH rather than flag a proxy.
 */
export async function prepareReferenceFaces(o: PrepareOptions): Promise<ReferenceFaces> {
  const started = performance.now();
  const candidates = readdirSync(o.dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => ({
      name,
      images: readdirSync(path.join(o.dir, name))
        .filter((f) => f.endsWith('.jpg'))
        .sort()
        .map((f) => path.join(o.dir, name, f)),
    }))
    .filter((c) => c.images.length >= 2);
  const pool = new FacePool({ config: { ...o.config, poolSize: o.threads, maxQueue: 10_000, taskTimeoutMs: 120_000 } });
  try {
    const engine = await pool.start();
    const analyse = async (bytes: Uint8Array): Promise<AnalyseSuccess | null> => {
      // The pool transfers the buffer it is given: it gets a copy, the selfie stays usable.
      const r = await pool.analyse(bytes.slice(), 'single');
      return r.ok && r.faces.length === 1 ? r : null;
    };
    const people: ReferencePerson[] = [];
    const impostors: ImpostorPhoto[] = [];
    let skipped = 0;
    let next = 0;
    const batch = Math.max(2, o.threads * 2);
    while (people.length < o.people && next < candidates.length) {
      const names = candidates.slice(next, next + Math.min(batch, o.people - people.length));
      next += names.length;
      const found = await Promise.all(
        names.map(async ({ name, images }) => {
          const reference = new Uint8Array(readFileSync(images[0]!));
          const selfie = new Uint8Array(readFileSync(images[1]!));
          const [a, b] = await Promise.all([analyse(reference), analyse(selfie)]);
          if (!a || !b) return null;
          const enrolment = Array.from(a.faces[0]!.embedding);
          const probe = Array.from(b.faces[0]!.embedding);
          return { name, enrolment, probe, selfie, expected: bandOf(distance(enrolment, probe), o.config.thresholds) };
        }),
      );
      for (const p of found) if (p) people.push(p);
      skipped += found.filter((p) => p === null).length;
      o.progress(`reference faces: ${people.length}/${o.people} people, ${skipped} skipped`);
    }
    if (people.length < o.people) throw new Error(`only ${people.length} usable people in ${o.dir}, ${o.people} needed`);
    const known = people.flatMap((p) => [p.enrolment, p.probe]);
    const farFromEveryone = (e: number[]) => known.every((k) => distance(e, k) > o.config.thresholds.uncertain);
    while (impostors.length < o.impostors && next < candidates.length) {
      const { name, images } = candidates[next++]!;
      const selfie = new Uint8Array(readFileSync(images[0]!));
      const r = await analyse(selfie);
      if (r && farFromEveryone(Array.from(r.faces[0]!.embedding))) impostors.push({ name, selfie });
      else skipped += 1;
    }
    if (impostors.length < o.impostors) throw new Error(`only ${impostors.length} impostor photos found, ${o.impostors} needed`);
    o.progress(`reference faces: ${people.length} people, ${impostors.length} impostors, ${skipped} skipped`);
    return {
      modelId: engine.modelId,
      modelVersion: engine.modelVersion,
      people,
      impostors,
      skipped,
      elapsedMs: performance.now() - started,
    };
  } finally {
    await pool.close();
  }
}

/** Whether student `i` of a room sends another person's photo (every Nth; 0 = nobody). */
export function isImpostor(i: number, every: number): boolean {
  return every > 0 && i % every === every - 1;
}

/** Impostors in a room of `students`. */
export function impostorsIn(students: number, every: number): number {
  return every > 0 ? Math.floor(students / every) : 0;
}

/**
 * The photo student `i` of a room sends. Impostors of one room take distinct photos while
 * there are enough of them.
 */
export function selfieOf(faces: ReferenceFaces, i: number, impostorEvery: number): Uint8Array {
  if (isImpostor(i, impostorEvery)) return faces.impostors[Math.floor(i / impostorEvery) % faces.impostors.length]!.selfie;
  return faces.people[i % faces.people.length]!.selfie;
}

/** Stores student `i`'s enrolment as person `i % K`, straight into the store, with the engine's model. */
export async function seedEnrolments(store: Store, orgId: string, students: User[], faces: ReferenceFaces): Promise<void> {
  for (const [i, student] of students.entries()) {
    await store.faces.put({
      orgId,
      userId: student.id,
      modelId: faces.modelId,
      modelVersion: faces.modelVersion,
      embeddings: [faces.people[i % faces.people.length]!.enrolment],
      photos: null,
    });
  }
}

/**
 * What the service should answer for student `i` of a room, from this process's distances:
 * the band of the selfie, or a mismatch for an impostor. A person repeated in a room is likely
 * a POSSIBLE_PROXY (the earlier student's accepted selfie is a session probe at distance 0).
 */
export function expectedOutcome(faces: ReferenceFaces, i: number, impostorEvery: number): string {
  if (isImpostor(i, impostorEvery)) return 'mismatch (impostor)';
  if (i >= faces.people.length) return 'repeated person (proxy likely)';
  return faces.people[i]!.expected;
}
