import { expect } from 'chai';
import { evaluateLiveness, MESH, poseOf, type Pose } from '../../../src/domain/face/liveness.js';
import type { FramePose } from '../../../src/domain/face/face-types.js';
import type { Thresholds } from '../../../src/domain/face/matching.js';

const T: Thresholds = { confident: 0.4, uncertain: 0.48 };

/**
 * A rigid 3-D head (x to the image's right, y down, z towards the camera, centimetres) with the
 * mesh vertices the liveness measures read: face edges behind the face plane, the nose tip in
 * front of it, eye contours whose lid gap `open` scales (1 open, about 0.15 closed).
 */
function head(open = 1): Map<number, [number, number, number]> {
  const eye = (x0: number, x1: number): Array<[number, number, number]> => {
    const a = x0 + (x1 - x0) / 3,
      b = x0 + (2 * (x1 - x0)) / 3,
      h = 0.6 * open;
    // p1 corner, p2 p3 upper lid, p4 corner, p5 p6 lower lid (p5 under p3, p6 under p2).
    return [
      [x0, -2, 0],
      [a, -2 - h, 0.1],
      [b, -2 - h, 0.1],
      [x1, -2, 0],
      [b, -2 + h, 0.1],
      [a, -2 + h, 0.1],
    ];
  };
  const m = new Map<number, [number, number, number]>([
    [MESH.noseTip, [0, 1, 4]],
    [MESH.rightEdge, [-7.5, 0, -2]],
    [MESH.leftEdge, [7.5, 0, -2]],
  ]);
  eye(-4.5, -1.5).forEach((p, i) => m.set(MESH.rightEye[i]!, p));
  eye(1.5, 4.5).forEach((p, i) => m.set(MESH.leftEye[i]!, p));
  return m;
}

/**
 * The 468-point mesh the camera would see of `head` turned `yawDeg` to the subject's own left
 * (the nose moves to the image's right), rolled `rollDeg`, scaled and shifted in the image.
 */
function mesh(yawDeg: number, opts: { open?: number; rollDeg?: number; scale?: number; shift?: [number, number] } = {}): number[][] {
  const y = (yawDeg * Math.PI) / 180,
    r = ((opts.rollDeg ?? 0) * Math.PI) / 180;
  const s = opts.scale ?? 10,
    [dx, dy] = opts.shift ?? [320, 240];
  const out: number[][] = Array.from({ length: 468 }, () => [0, 0, 0]);
  for (const [i, [x, py, z]] of head(opts.open)) {
    const rx = x * Math.cos(y) + z * Math.sin(y),
      rz = -x * Math.sin(y) + z * Math.cos(y);
    const qx = rx * Math.cos(r) - py * Math.sin(r),
      qy = rx * Math.sin(r) + py * Math.cos(r);
    out[i] = [qx * s + dx, qy * s + dy, rz * s];
  }
  return out;
}

const selfie = [1, 0, 0, 0];
/** A unit embedding at `d` from the selfie's. */
function face(d: number): Float32Array {
  const a = 2 * Math.asin(d / 2);
  return Float32Array.from([Math.cos(a), Math.sin(a), 0, 0]);
}
function frame(pose: Pose, d = 0.2): FramePose {
  return { ok: true, turn: pose.turn, ear: pose.ear, embedding: face(d) };
}
function frames(meshes: number[][][], d = 0.2): FramePose[] {
  return meshes.map((m) => frame(poseOf(m)!, d));
}
const yaws = (...deg: number[]) => deg.map((v) => mesh(v));

describe('liveness from the face mesh', () => {
  it('measures no turn facing the camera, a growing one as the head turns, signed by side', () => {
    expect(poseOf(mesh(0))!.turn).to.be.closeTo(0, 1e-9);
    const left = [10, 20, 30].map((d) => poseOf(mesh(d))!.turn);
    expect(left[0]).to.be.greaterThan(0);
    expect(left[1]).to.be.greaterThan(left[0]!);
    expect(left[2]).to.be.greaterThan(left[1]!);
    expect(poseOf(mesh(-20))!.turn).to.be.closeTo(-left[1]!, 1e-9);
  });

  it('keeps the measures of a flat face moved, rolled, scaled or squeezed, as a printed photo is', () => {
    const flat = poseOf(mesh(5))!;
    const moved = poseOf(mesh(5, { rollDeg: 25, scale: 6, shift: [100, 400] }))!;
    expect(moved.turn).to.be.closeTo(flat.turn, 1e-9);
    expect(moved.ear).to.be.closeTo(flat.ear, 1e-9);
    // A print tilted about its vertical axis squeezes the image horizontally: the ratio stays.
    const squeezed = mesh(5).map(([x, y, z]) => [320 + (x! - 320) * 0.6, y!, z!]);
    expect(poseOf(squeezed)!.turn).to.be.closeTo(flat.turn, 1e-9);
  });

  it('returns null for a mesh without the points it needs', () => {
    expect(poseOf([])).to.equal(null);
    const m = mesh(0);
    m[MESH.rightEdge] = m[MESH.leftEdge]!;
    expect(poseOf(m)).to.equal(null);
  });

  it('passes a head turning to the asked side, from frontal or from a slight start', () => {
    const v = evaluateLiveness('turn-left', frames(yaws(0, 5, 15, 25, 30)), selfie, T);
    expect(v).to.include({ passed: true, failure: null });
    expect(v.motion).to.be.greaterThan(0.25);
    expect(evaluateLiveness('turn-right', frames(yaws(5, 0, -10, -20, -25)), selfie, T).passed).to.equal(true);
    // Turned and back: the rise happened, the way back does not undo it.
    expect(evaluateLiveness('turn-left', frames(yaws(0, 25, 0)), selfie, T).passed).to.equal(true);
  });

  it('fails a still sequence: the same frame repeated, or a held photo that only jitters', () => {
    const still = evaluateLiveness('turn-left', frames(yaws(3, 3, 3, 3, 3)), selfie, T);
    expect(still).to.include({ passed: false, failure: 'no-movement' });
    expect(still.motion).to.equal(0);
    const jitter = frames([
      mesh(2, { rollDeg: -4 }),
      mesh(3, { shift: [330, 250], scale: 11 }),
      mesh(1, { rollDeg: 6, scale: 9 }),
      mesh(4),
    ]);
    expect(evaluateLiveness('turn-right', jitter, selfie, T)).to.include({ passed: false, failure: 'no-movement' });
    expect(evaluateLiveness('blink', jitter, selfie, T)).to.include({ passed: false, failure: 'no-movement' });
  });

  it('fails a turn to the wrong side, and a turn too small', () => {
    expect(evaluateLiveness('turn-right', frames(yaws(0, 10, 20, 30)), selfie, T)).to.include({
      passed: false,
      failure: 'wrong-direction',
    });
    expect(evaluateLiveness('turn-left', frames(yaws(0, -10, -20, -30)), selfie, T)).to.include({
      passed: false,
      failure: 'wrong-direction',
    });
    expect(evaluateLiveness('turn-left', frames(yaws(0, 3, 6, 8)), selfie, T)).to.include({ passed: false, failure: 'no-movement' });
    // A turn to the asked side after a slip the other way still passes.
    expect(evaluateLiveness('turn-left', frames(yaws(0, -15, 0, 20)), selfie, T).passed).to.equal(true);
  });

  it('detects a blink from the dip of the eye-aspect ratio, and not without one', () => {
    const open = poseOf(mesh(0))!.ear,
      closed = poseOf(mesh(0, { open: 0.15 }))!.ear;
    expect(open).to.be.closeTo(0.4, 1e-9);
    expect(closed).to.be.lessThan(open * 0.6);
    const blink = frames([mesh(0), mesh(1), mesh(0, { open: 0.15 }), mesh(0)]);
    expect(evaluateLiveness('blink', blink, selfie, T)).to.include({ passed: true, failure: null });
    // Closing at the end counts too: the frames before show the eyes open.
    expect(evaluateLiveness('blink', frames([mesh(0), mesh(0), mesh(0, { open: 0.1 })]), selfie, T).passed).to.equal(true);
    const squint = frames([mesh(0), mesh(0, { open: 0.8 }), mesh(0)]);
    expect(evaluateLiveness('blink', squint, selfie, T)).to.include({ passed: false, failure: 'no-movement' });
    // A turn is not a blink, and a blink not a turn.
    expect(evaluateLiveness('blink', frames(yaws(0, 15, 30)), selfie, T).passed).to.equal(false);
    expect(evaluateLiveness('turn-left', blink, selfie, T).passed).to.equal(false);
    // Eyes never open (a photo with closed eyes): nothing to compare with.
    expect(
      evaluateLiveness('blink', frames([mesh(0, { open: 0.1 }), mesh(0, { open: 0.1 }), mesh(0, { open: 0.05 })]), selfie, T).passed,
    ).to.equal(false);
  });

  it('fails a turn performed by another face than the selfie', () => {
    const turning = yaws(0, 15, 30);
    expect(evaluateLiveness('turn-left', frames(turning, 0.6), selfie, T)).to.include({ passed: false, failure: 'other-face' });
    // One frame swapped for someone else's face is enough to fail.
    const mixed = frames(turning);
    mixed[2] = frame(poseOf(turning[2]!)!, 0.55);
    const v = evaluateLiveness('turn-left', mixed, selfie, T);
    expect(v).to.include({ passed: false, failure: 'other-face' });
    expect(v.maxDistance).to.be.closeTo(0.55, 1e-6);
    // Within the uncertain band, frames of a turned head pass when one frame is confident.
    expect(evaluateLiveness('turn-left', [frame(poseOf(turning[0]!)!, 0.3), ...frames(turning.slice(1), 0.45)], selfie, T).passed).to.equal(
      true,
    );
  });

  it('needs enough frames with one face, and refuses a frame with two', () => {
    const turning = frames(yaws(0, 15, 30));
    expect(evaluateLiveness('turn-left', turning.slice(0, 2), selfie, T)).to.include({ passed: false, failure: 'too-few-frames' });
    const lost: FramePose = { ok: false, reason: 'FACE_NOT_FOUND' };
    expect(evaluateLiveness('turn-left', [...turning, lost], selfie, T).passed).to.equal(true);
    expect(evaluateLiveness('turn-left', [turning[0]!, lost, turning[2]!], selfie, T)).to.include({ failure: 'too-few-frames' });
    const two: FramePose = { ok: false, reason: 'FACE_MULTIPLE' };
    expect(evaluateLiveness('turn-left', [...turning, two], selfie, T)).to.include({ passed: false, failure: 'face-multiple' });
  });
});
