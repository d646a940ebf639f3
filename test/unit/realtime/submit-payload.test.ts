import { expect } from 'chai';
import { fastSubmitPayload, SubmitSchema } from '../../../src/realtime/handlers/submit-payload.js';

// The check-in's hand-written read against its schema: whatever the fast read accepts, the
// schema accepts with the same output (the same fields in the same order, the code trimmed);
// everything else it leaves to the schema (null), whose refusals are then the only ones.

const SESSION = '0193a4f2-7d1e-7c3a-9b1e-2f6e8d9c0a1b';
const FIX = { lat: 48.8566, lon: 2.3522, accuracy: 15, timestamp: 1_764_950_000_000 };

/** Asserts the fast read agrees with the schema on `payload`; returns whether it took it. */
function agrees(payload: unknown): boolean {
  const fast = fastSubmitPayload(payload);
  if (fast === null) return false;
  const parsed = SubmitSchema.safeParse(payload ?? {});
  const label = describeValue(payload);
  expect(parsed.success, `schema refuses what the fast read took: ${label}`).to.equal(true);
  if (!parsed.success) return true;
  expect(fast, label).to.deep.equal(parsed.data);
  expect(JSON.stringify(fast), label).to.equal(JSON.stringify(parsed.data));
  expect(Object.is(fast.location?.lat, parsed.data.location?.lat), `${label}: -0 kept`).to.equal(true);
  return true;
}

function describeValue(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x)) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Values each field is tried with: the edges of every rule, and values of the wrong kind. */
const strings = (lengths: number[], ch = 'a') => lengths.map((n) => ch.repeat(n));
const WRONG_KINDS: unknown[] = [null, undefined, true, 0, 1, '', [], {}, Object.create(null), new Uint8Array(2), new Date(0), NaN];
const FIELD_VALUES: Record<string, unknown[]> = {
  sessionId: [SESSION, ...strings([0, 1, 63, 64, 65, 200]), '😀'.repeat(32), '😀'.repeat(33), ...WRONG_KINDS],
  code: [
    'ABC123',
    ...strings([0, 15, 16, 17]),
    '  ABC  ',
    `${' '.repeat(20)}x`,
    `x${' '.repeat(20)}`,
    '\u00a0abc\u00a0',
    '\ufeffabc',
    '\t\n abcdefghijklmnop \n',
    ' '.repeat(40),
    ...WRONG_KINDS,
  ],
  joinToken: ['tok', ...strings([0, 39, 40, 41]), ...WRONG_KINDS],
  deviceId: [
    'device-01',
    'abcdefgh',
    'abcdefg',
    'a'.repeat(64),
    'a'.repeat(65),
    'abc def gh',
    'abcdefgh\n',
    'äbcdefgh',
    'ABC_def-123',
    ...WRONG_KINDS,
  ],
  location: [
    FIX,
    { ...FIX, lat: -0 },
    { ...FIX, lat: 90 },
    { ...FIX, lat: 90.000001 },
    { ...FIX, lat: -90 },
    { ...FIX, lat: -90.1 },
    { ...FIX, lon: 180 },
    { ...FIX, lon: -180.5 },
    { ...FIX, lon: 180.000001 },
    { ...FIX, lat: NaN },
    { ...FIX, lon: Infinity },
    { ...FIX, lat: '48.8' },
    { ...FIX, accuracy: 0 },
    { ...FIX, accuracy: -0 },
    { ...FIX, accuracy: 1e-300 },
    { ...FIX, accuracy: 100_000 },
    { ...FIX, accuracy: 100_000.5 },
    { ...FIX, accuracy: -1 },
    { ...FIX, timestamp: 1 },
    { ...FIX, timestamp: 0 },
    { ...FIX, timestamp: -1 },
    { ...FIX, timestamp: 1.5 },
    { ...FIX, timestamp: 8.64e15 },
    { ...FIX, timestamp: 8.64e15 + 2 },
    { ...FIX, timestamp: Number.MAX_SAFE_INTEGER + 2 },
    { ...FIX, timestamp: '2026-12-05T10:00:00Z' },
    { ...FIX, timestamp: '2026-12-05T10:00:00' },
    { ...FIX, timestamp: new Date(0) },
    { ...FIX, extra: 1 },
    { ...FIX, lat: undefined },
    { lat: FIX.lat, lon: FIX.lon, accuracy: FIX.accuracy },
    { timestamp: FIX.timestamp, accuracy: FIX.accuracy, lon: FIX.lon, lat: FIX.lat },
    Object.assign(Object.create(null) as object, FIX),
    Object.assign(Object.create({ inherited: 1 }) as object, FIX),
    [FIX.lat, FIX.lon],
    ...WRONG_KINDS,
  ],
  selfie: [new Uint8Array([1, 2, 3]), new ArrayBuffer(4), undefined, 'image'],
  liveness: [undefined, { token: 't', frames: [] }],
  unknown: ['x', undefined],
  ['__proto__']: [{}],
};

/** A small deterministic generator (mulberry32), so a failure names a payload that can be rebuilt. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('checkin:submit fast read (submit-payload.ts) against SubmitSchema', () => {
  it('takes the usual payloads, with the output of the schema', () => {
    expect(agrees({ sessionId: SESSION, location: FIX })).to.equal(true);
    expect(agrees({ sessionId: SESSION })).to.equal(true);
    expect(agrees({ location: FIX, deviceId: 'device-01', code: '  ab12 ', joinToken: 'tok', sessionId: SESSION })).to.equal(true);
    expect(agrees(Object.assign(Object.create(null) as object, { sessionId: SESSION, location: { ...FIX, lat: -0 } }))).to.equal(true);
    expect(fastSubmitPayload({ sessionId: SESSION, code: ' a1 ' })).to.deep.equal({ sessionId: SESSION, code: 'a1' });
  });

  it('leaves to the schema every payload outside the usual shape or out of range', () => {
    const leftToSchema: unknown[] = [
      undefined,
      null,
      [],
      'x',
      new Uint8Array(1),
      {},
      { sessionId: SESSION, selfie: new Uint8Array([1]) },
      { sessionId: SESSION, code: undefined },
      { sessionId: SESSION, location: { ...FIX, timestamp: '2026-12-05T10:00:00Z' } },
      { sessionId: SESSION, location: { ...FIX, accuracy: 0 } },
      { sessionId: SESSION, location: { ...FIX, timestamp: 1.5 } },
      { sessionId: SESSION, code: 'x'.repeat(17) },
      { sessionId: SESSION, deviceId: 'short' },
      { sessionId: SESSION, other: 1 },
      JSON.parse(`{"sessionId":"${SESSION}","__proto__":{"x":1}}`) as unknown,
    ];
    for (const payload of leftToSchema) expect(fastSubmitPayload(payload), describeValue(payload)).to.equal(null);
  });

  it('agrees with the schema on each field at the edges of its rules', () => {
    let taken = 0;
    let tried = 0;
    for (const [field, values] of Object.entries(FIELD_VALUES)) {
      for (const value of values) {
        const payload: Record<string, unknown> = { sessionId: SESSION, location: FIX };
        Object.defineProperty(payload, field, { value, enumerable: true, configurable: true, writable: true });
        tried += 1;
        if (agrees(payload)) taken += 1;
      }
    }
    // Not vacuous: both sides of the rules were reached.
    expect(taken).to.be.greaterThan(30);
    expect(tried - taken).to.be.greaterThan(80);
  });

  it('agrees with the schema on 20,000 random mixes of those values', () => {
    const next = random(20);
    const fields = Object.keys(FIELD_VALUES);
    let taken = 0;
    let refused = 0;
    for (let i = 0; i < 20_000; i += 1) {
      const payload: Record<string, unknown> = next() < 0.05 ? (Object.create(null) as Record<string, unknown>) : {};
      for (const field of fields) {
        // The session id and the fix usually valid, so that the other fields decide often.
        const values = FIELD_VALUES[field]!;
        const p = field === 'sessionId' ? 0.95 : field === 'location' ? 0.7 : 0.3;
        if (next() >= p) continue;
        const value = field === 'sessionId' && next() < 0.8 ? SESSION : values[Math.floor(next() * values.length)];
        Object.defineProperty(payload, field, { value, enumerable: true, configurable: true, writable: true });
      }
      if (agrees(payload)) taken += 1;
      else if (!SubmitSchema.safeParse(payload).success) refused += 1;
    }
    expect(taken).to.be.greaterThan(500);
    expect(refused).to.be.greaterThan(1_000);
  });
});
