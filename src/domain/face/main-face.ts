import type { FaceBox } from './face-types.js';

/**
 * Which face of a selfie is the student's. A selfie in a lecture hall nearly always has
 * classmates behind the student, far smaller than the face held close to the phone: those are
 * ignored. A face comparable in size (two friends in one selfie, a phone showing a photo held up
 * beside the face) leaves no way to tell whose check-in it is, so the selfie is refused.
 */
export type MainFaceVerdict = { ok: true; index: number; ignored: number } | { ok: false; comparable: number };

/**
 * `boxes` in any order (none: the caller has already answered FACE_NOT_FOUND). Another face is
 * comparable when its box is at least `ratio` times as wide as the largest one's; `ratio` 0
 * makes every second face comparable (the strict rule enrolment photos keep). Width rather
 * than area: a face half as wide is a quarter of the area, and widths read as "how far behind".
 */
export function mainFace(boxes: readonly Pick<FaceBox, 'width'>[], ratio: number): MainFaceVerdict {
  if (boxes.length === 0) throw new Error('mainFace needs at least one face');
  let index = 0;
  boxes.forEach((b, i) => {
    if (b.width > boxes[index]!.width) index = i;
  });
  const largest = boxes[index]!.width;
  const comparable = boxes.filter((b, i) => i !== index && b.width >= ratio * largest).length;
  if (comparable > 0) return { ok: false, comparable: comparable + 1 };
  return { ok: true, index, ignored: boxes.length - 1 };
}
