import { expect } from 'chai';
import type { CheckinView } from '../../../src/shared/events.js';
import type { ReasonCode } from '../../../src/shared/reasons.js';
import { translator } from '../../../src/shared/i18n/messages.js';
import { retakeAdvice } from '../../../src/web/lib/selfie-advice.js';
import { studentEn } from '../../../src/web/locales/student-en.js';
import studentFr from '../../../src/web/locales/student-fr.js';

// What the student page adds to a rejected selfie: beside the reason ("Another face about as
// large as the main one is in the selfie."), what to change before the next try. A selfie check
// still refuses some photos for their image (docs/face.md "Known limits"), so the page must say
// how to take one that passes rather than only that it failed.

const rejected = (reason: ReasonCode, attemptsLeft = 1): Pick<CheckinView, 'status' | 'reason' | 'attemptsLeft'> => ({
  status: 'rejected',
  reason,
  attemptsLeft,
});

describe('student page: what to change before retaking a refused selfie', () => {
  const en = translator<typeof studentEn>('en', studentEn);
  const fr = translator<typeof studentEn>('fr', studentFr);
  const refusals: ReasonCode[] = [
    'FACE_NOT_FOUND',
    'FACE_MULTIPLE',
    'FACE_TOO_SMALL',
    'FACE_LOW_QUALITY',
    'FACE_MISMATCH',
    'IMAGE_INVALID',
    'IMAGE_TOO_LARGE',
    'IMAGE_TOO_MANY_PIXELS',
    'IMAGE_UNSUPPORTED_TYPE',
  ];

  it('gives advice, in both languages, for every selfie refusal protocol.md §5.7 lists', () => {
    for (const reason of refusals) {
      const key = retakeAdvice(rejected(reason));
      expect(key, reason).to.be.a('string');
      expect(en.t(key!), reason).to.not.equal(key);
      expect(fr.t(key!), reason).to.not.equal(en.t(key!));
    }
  });

  it('says what each face refusal needs: nobody beside you, the whole face, closer, steadier and lit', () => {
    const say = (reason: ReasonCode) => en.t(retakeAdvice(rejected(reason))!);
    // Classmates further behind are ignored (docs/face.md step 3): the advice must not ask for an empty room.
    expect(say('FACE_MULTIPLE'))
      .to.match(/nobody beside you/i)
      .and.match(/further behind do not matter/i);
    expect(say('FACE_NOT_FOUND')).to.match(/whole face/i);
    expect(say('FACE_TOO_SMALL')).to.match(/closer/i);
    expect(say('FACE_LOW_QUALITY')).to.match(/light/i);
    expect(say('FACE_MISMATCH')).to.match(/your own face/i);
  });

  it('gives none without a try left, for another rejection, or for a record that is not rejected', () => {
    expect(retakeAdvice(rejected('FACE_MULTIPLE', 0))).to.equal(null);
    expect(retakeAdvice(rejected('CODE_INVALID'))).to.equal(null);
    expect(retakeAdvice(rejected('REJECTED_BY_TEACHER'))).to.equal(null);
    expect(retakeAdvice({ status: 'pending', reason: 'FACE_UNCERTAIN', attemptsLeft: 0 })).to.equal(null);
    expect(retakeAdvice({ status: 'present', reason: 'FACE_MATCH', attemptsLeft: 0 })).to.equal(null);
  });
});
