import { copyFileSync, rmSync, existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { createSqliteStore } from '../src/store/sqlite/sqlite-store.js';
const N = 100_000;
const A = '/tmp/abuse24/outbox-a.db', B = '/tmp/abuse24/outbox-b.db';
let orgId = '';
if (!existsSync(A)) {
  const store = await createSqliteStore({ path: A });
  const org = await store.organisations.create({ name: 'School', slug: 'school', timezone: 'UTC' });
  orgId = org.id;
  await store.close();
  const raw = new Database(A);
  const text = 'Dear guardian, '.padEnd(800, 'x'), html = '<p>Dear guardian</p>'.padEnd(1500, 'y');
  const ins = raw.prepare(`INSERT INTO outbox (id, org_id, category, user_id, recipient, subject, text, html, headers, status, attempts, last_error,
    next_attempt_at, claimed_by, claim_until, created_at, sent_at) VALUES (?, ?, 'alert', NULL, ?, 'Attendance alert', ?, ?, '{}', 'sent', 1, NULL, ?, NULL, NULL, ?, ?)`);
  const t0 = Date.UTC(2026, 0, 1);
  raw.transaction(() => {
    for (let i = 0; i < N; i++) ins.run(`m-${i}`, orgId, `guardian-${i % 20_000}@families.example`, text, html, t0 + i * 60_000, t0 + i * 60_000, t0 + i * 60_000);
  })();
  raw.close();
  const check = new Database(A);
  check.pragma('wal_checkpoint(TRUNCATE)');
  console.log('rows', check.prepare('SELECT COUNT(*) AS n FROM outbox').get());
  check.close();
  copyFileSync(A, B);
  const db = new Database(B);
  db.exec('CREATE INDEX outbox_recipient ON outbox (org_id, recipient COLLATE NOCASE)');
  db.close();
} else {
  const db = new Database(A, { readonly: true });
  orgId = (db.prepare('SELECT id FROM organisations LIMIT 1').get() as { id: string }).id;
  db.close();
}
const a = await createSqliteStore({ path: A }), bs = await createSqliteStore({ path: B });
const plan = new Database(B, { readonly: true });
console.log(plan.prepare("EXPLAIN QUERY PLAN SELECT * FROM outbox WHERE org_id = ? AND recipient LIKE ? ESCAPE '\\' ORDER BY created_at DESC, rowid DESC LIMIT 50").all(orgId, 'guardian-1234@%'));
const time = async (s: typeof a, q: string) => { const t = process.hrtime.bigint(); const r = await s.outbox.list(orgId, { recipient: q, limit: 50, offset: 0 }); return [Number(process.hrtime.bigint() - t) / 1e6, r.total] as const; };
const ra: number[] = [], rb: number[] = [];
for (let i = 0; i < 15; i++) {
  const q = `guardian-${(i * 1337) % 20000}@families.example`;
  ra.push((await time(a, q))[0]); rb.push((await time(bs, q))[0]);
}
const prefix: number[][] = [[], []];
for (let i = 0; i < 10; i++) { prefix[0]!.push((await time(a, 'GUARDIAN-1'))[0]); prefix[1]!.push((await time(bs, 'GUARDIAN-1'))[0]); }
const med = (x: number[]) => [...x].sort((p, q) => p - q)[Math.floor(x.length / 2)]!.toFixed(2);
console.log('whole address: no index', med(ra), 'ms; index', med(rb), 'ms; total', (await time(a, 'guardian-1@families.example'))[1], (await time(bs, 'guardian-1@families.example'))[1]);
console.log('prefix GUARDIAN-1 (many): no index', med(prefix[0]!), 'ms; index', med(prefix[1]!), 'ms');
await a.close(); await bs.close();
void rmSync;
