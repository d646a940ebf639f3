import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { z } from 'zod';
import { EnvSchema } from '../../../src/config.js';
import { signatureHeader } from '../../../src/domain/webhooks/signature.js';
import { AUDIT_ACTIONS } from '../../../src/shared/audit.js';
import { ErrorCodes } from '../../../src/shared/errors.js';
import { PolicyInputSchema, PolicyViewSchema } from '../../../src/shared/policy.js';
import { ReasonCodes } from '../../../src/shared/reasons.js';

// Clients are written from docs/protocol.md and README alone: what they say must be what
// src/shared and src/config.ts declare, name for name.
const ROOT = new URL('../../../', import.meta.url);
const read = (file: string) => readFileSync(new URL(file, ROOT), 'utf8');
const protocol = read('docs/protocol.md');
const readme = read('README.md');

/** The text of `## N. Title` up to the next `## ` heading. */
function section(n: number): string {
  const start = protocol.indexOf(`\n## ${n}. `);
  expect(start, `§${n} heading`).to.be.greaterThan(-1);
  const end = protocol.indexOf('\n## ', start + 1);
  return protocol.slice(start, end === -1 ? undefined : end);
}

/** The first cell of each table row, when it is one backticked word: `| \`X\` | ... |`. */
function firstCells(text: string): string[] {
  return [...text.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]!);
}

interface Member {
  name: string;
  optional: boolean;
}

/** Interfaces of a TypeScript text: name -> members (name and `?`). */
function interfacesOf(source: string): Map<string, Member[]> {
  const file = ts.createSourceFile('x.ts', source, ts.ScriptTarget.Latest);
  const out = new Map<string, Member[]>();
  file.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node)) return;
    const members = node.members.flatMap((m) =>
      m.name && (ts.isIdentifier(m.name) || ts.isStringLiteral(m.name))
        ? [{ name: m.name.text, optional: m.questionToken !== undefined }]
        : [],
    );
    out.set(node.name.text, members);
  });
  return out;
}

const shared = interfacesOf(read('src/shared/events.ts'));
const commandNames = shared.get('ClientToServerEvents')!.map((m) => m.name);
const serverEventNames = shared.get('ServerToClientEvents')!.map((m) => m.name);

describe('docs/protocol.md against src/shared', () => {
  it('has every client command in the §5 table and every server event in the §6 table', () => {
    expect(commandNames).to.include('checkin:submit');
    expect(serverEventNames).to.include('roster:updates');
    expect(firstCells(section(5))).to.include.members(commandNames);
    expect(firstCells(section(6))).to.include.members(serverEventNames);
  });

  it('names no event the event map does not have', () => {
    const known = new Set([...commandNames, ...serverEventNames]);
    // Socket.IO's own events and the inter-node ones are not in the client map.
    const builtIn = new Set(['connect', 'connect_error', 'disconnect']);
    const named = [...protocol.matchAll(/`([a-z]+:[a-z-]+)`/g)].map((m) => m[1]!);
    expect(named.length).to.be.greaterThan(20);
    expect(named.filter((n) => !known.has(n) && !builtIn.has(n))).to.deep.equal([]);
  });

  it('lists every error code of the shared table in §13 with its HTTP status, and no other', () => {
    const rows = new Map([...section(13).matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])]));
    const expected = new Map(Object.entries(ErrorCodes).map(([code, { status }]) => [code, status]));
    expect(Object.fromEntries(rows)).to.deep.equal(Object.fromEntries(expected));
  });

  it('lists every reason code in §14, and no other', () => {
    const s14 = section(14);
    const table = s14.slice(0, s14.indexOf('### '));
    const named = new Set([...table.matchAll(/`([A-Z][A-Z_]+)`/g)].map((m) => m[1]!));
    expect([...named].sort()).to.deep.equal(Object.keys(ReasonCodes).sort());
  });

  it('spells the §15 types with the fields, and optional fields, of src/shared/events.ts', () => {
    const block = /```ts\n([\s\S]*?)```/.exec(section(15));
    expect(block, '§15 code block').to.not.equal(null);
    const documented = interfacesOf(block![1]!);
    const compared: string[] = [];
    for (const [name, members] of documented) {
      const actual = shared.get(name);
      if (!actual) continue;
      compared.push(name);
      expect(members, name).to.deep.equal(actual);
    }
    expect(compared).to.include.members(['SessionView', 'RosterEntry', 'CheckinView', 'CheckinSubmitInput', 'SessionOpenInput']);
    // The policy types are zod schemas in src/shared/policy.ts.
    const fields = (name: string) => documented.get(name)!.map((m) => m.name);
    expect(fields('PolicyInput')).to.have.members(Object.keys(PolicyInputSchema.shape));
    expect(fields('PolicyView')).to.have.members(Object.keys(PolicyViewSchema.shape));
  });
});

describe("README's configuration table against src/config.ts", () => {
  const start = readme.indexOf('| variable | default | meaning |');
  const table = readme.slice(start, readme.indexOf('\n\n', start));
  const rows = table
    .split('\n')
    .slice(2)
    .map((line) => line.split(' | '));
  const variables = new Map<string, string>();
  for (const [names, defaultCell] of rows) {
    for (const m of names!.matchAll(/`([A-Z0-9_]+)`/g)) variables.set(m[1]!, defaultCell ?? '');
  }

  it('lists every variable src/config.ts reads', () => {
    expect(start).to.be.greaterThan(-1);
    expect([...variables.keys()]).to.include.members(Object.keys(EnvSchema.shape));
  });

  it('lists no variable the service does not read', () => {
    const face = read('src/face/face-config.ts');
    const unknown = [...variables.keys()].filter((v) => !(v in EnvSchema.shape) && !new RegExp(`^\\s+${v}: `, 'm').test(face));
    expect(unknown).to.deep.equal([]);
  });

  it('gives the defaults src/config.ts applies', () => {
    const defaults = EnvSchema.parse({}) as Record<string, unknown>;
    const wrong: string[] = [];
    for (const [name, value] of Object.entries(defaults)) {
      if (value === undefined || !variables.has(name)) continue;
      const documented = /`([^`]*)`/.exec(variables.get(name)!)?.[1];
      const expected = Array.isArray(value) ? value.join(',') : String(value);
      if (documented === undefined) {
        if (expected !== '') wrong.push(`${name}: no default given, ${expected} applies`);
      } else if (documented.replace(/_/g, '') !== expected) {
        wrong.push(`${name}: README ${documented}, config ${expected}`);
      }
    }
    expect(wrong).to.deep.equal([]);
  });
  // An operator shortening a job's interval for a trial run, or a link's lifetime, met a start
  // refused for a bound the table did not give (TIMETABLE_INTERVAL_MS under a minute).
  it('gives the range of every job interval, poll period and link lifetime as `MIN to MAX`', () => {
    const spaced = (n: number) => n.toLocaleString('en-US').replace(/,/g, ' ');
    const missing: string[] = [];
    for (const [name, schema] of Object.entries(EnvSchema.shape)) {
      if (!/_(INTERVAL_MS|POLL_MS)$|^(INVITE|RESET)_TTL_S$/.test(name)) continue;
      const bounds = z.toJSONSchema(schema as z.ZodType, { io: 'input', unrepresentable: 'any' }) as { minimum?: number; maximum?: number };
      const range = `${spaced(bounds.minimum!)} to ${spaced(bounds.maximum!)}`;
      if (!rows.some(([names, , meaning]) => names!.includes(`\`${name}\``) && meaning?.includes(range))) missing.push(`${name}: ${range}`);
    }
    expect(missing).to.deep.equal([]);
  });
});

describe('what README and docs/*.md point readers to', () => {
  const docs = readdirSync(new URL('docs/', ROOT))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`);
  const texts = ['README.md', ...docs].map((file) => ({ file, text: read(file) }));

  it('names only repository files that exist', () => {
    const missing: string[] = [];
    for (const { file, text } of texts) {
      // `dist/...` paths are build output, not repository files.
      for (const m of text.matchAll(/(?<![\w/.-])(?:src|scripts|test|workers|deploy)\/[\w./-]+/g)) {
        const name = m[0].replace(/[.,:;]+$/, '');
        if (!existsSync(new URL(name, ROOT))) missing.push(`${file}: ${name}`);
      }
    }
    expect(missing).to.deep.equal([]);
  });

  it('gives each error code it writes with an HTTP status (`409 EMAIL_TAKEN`) the status of the shared table', () => {
    const table = ErrorCodes as Record<string, { status: number }>;
    const found: string[] = [];
    const wrong: string[] = [];
    for (const { file, text } of texts) {
      // `409 EMAIL_TAKEN`, 409 `EMAIL_TAKEN`, `409` `EMAIL_TAKEN`; a word without `_` that is no
      // code (`404` JSON) is prose, and so is a setting after a port.
      for (const m of text.matchAll(/\b([45]\d\d)`? `?([A-Z][A-Z_]{3,})\b/g)) {
        const entry = table[m[2]!];
        if (entry === undefined && (!m[2]!.includes('_') || m[2]! in EnvSchema.shape)) continue; // port 587 `MAIL_FROM`
        found.push(m[0]);
        if (entry === undefined) wrong.push(`${file}: ${m[0]} is no error code`);
        else if (entry.status !== Number(m[1])) wrong.push(`${file}: ${m[0]}, the table says ${entry.status}`);
      }
    }
    expect(found.length).to.be.greaterThan(50);
    expect(wrong).to.deep.equal([]);
  });

  it('names only npm scripts package.json has', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    const used = texts.flatMap(({ file, text }) => [...text.matchAll(/npm run ([a-z:-]+)/g)].map((m) => `${file}: ${m[1]!}`));
    expect(used.length).to.be.greaterThan(5);
    expect(used.filter((u) => !(u.split(': ')[1]! in scripts))).to.deep.equal([]);
  });
});

describe("docs/webhooks.md's verification example", () => {
  let dir = '';
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('accepts what the server signs and refuses an altered body, run as written', async () => {
    const block = /```js\n([\s\S]*?)```/.exec(read('docs/webhooks.md'));
    expect(block, 'the Node.js example').to.not.equal(null);
    dir = mkdtempSync(path.join(tmpdir(), 'webhook-doc-'));
    const file = path.join(dir, 'verify.mjs');
    writeFileSync(file, `${block![1]!}\nexport { verify };\n`);
    const { verify } = (await import(pathToFileURL(file).href)) as {
      verify: (secret: string, rawBody: string, header: string, now?: number) => boolean;
    };
    const body = JSON.stringify({ id: 'd1', type: 'record.created', data: { name: 'Zoë' } });
    const at = new Date('2026-03-02T09:03:12Z');
    const header = signatureHeader('whsec_test', body, at);
    expect(verify('whsec_test', body, header, at.getTime())).to.equal(true);
    expect(verify('whsec_test', `${body} `, header, at.getTime())).to.equal(false);
    expect(verify('whsec_other', body, header, at.getTime())).to.equal(false);
    expect(verify('whsec_test', body, header, at.getTime() + 301_000)).to.equal(false);
  });
});

describe("docs/protocol.md's TypeScript client example", () => {
  // Inside the repository (gitignored) so that socket.io-client and zod resolve from its node_modules.
  const dir = new URL('.cache/protocol-example/', ROOT);
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('type-checks against src/shared with only socket.io-client and zod, as §2 writes it', function () {
    this.timeout(60_000);
    const block = /```ts\n(import \{ io, type Socket \} from 'socket.io-client';[\s\S]*?)```/.exec(protocol);
    expect(block, 'the §2 example').to.not.equal(null);
    const shared = path.relative(path.join(ROOT.pathname, '.cache/protocol-example'), path.join(ROOT.pathname, 'src/shared'));
    const example = block![1]!.replaceAll("'./shared/", `'${shared}/`);
    // The §2 note: with timeout() the answer is typed `any`, which a number annotation proves.
    // If socket.io-client fixes its types, this line fails: then drop the note from §2 and §4.
    const probe = "const untyped: number = await socket.timeout(1).emitWithAck('session:code', { sessionId: 'x' });\n";
    const stubs = 'declare const baseUrl: string;\ndeclare const tokens: { access: string; refresh(): Promise<void> };\n';
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir.pathname, 'client.ts');
    writeFileSync(file, `${stubs}${example}${probe}export { active, untyped };\n`);
    const program = ts.createProgram([file], {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: [],
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(problems).to.deep.equal([]);
  });

  it('needs nothing from src/shared beyond zod, except the server-only ids.ts it names', () => {
    const dirUrl = new URL('src/shared/', ROOT);
    const outside = readdirSync(dirUrl)
      .filter((f) => f.endsWith('.ts') && f !== 'ids.ts')
      .flatMap((f) =>
        [...readFileSync(new URL(f, dirUrl), 'utf8').matchAll(/^import .* from '([^.][^']*)';$/gm)].map((m) => `${f}: ${m[1]}`),
      )
      .filter((i) => !i.endsWith(': zod'));
    expect(outside).to.deep.equal([]);
  });
});

describe("docs/reports.md's audit actions against src/shared/audit.ts", () => {
  it('lists every action the audit filter takes, and no other', () => {
    const reports = read('docs/reports.md');
    const start = reports.indexOf('\n### Audit actions');
    expect(start, 'Audit actions heading').to.be.greaterThan(-1);
    const end = reports.indexOf('\n#', start + 1);
    const table = reports.slice(start, end === -1 ? undefined : end);
    const listed = [...table.matchAll(/^\| [^|]+ \| (.+) \|$/gm)].flatMap((m) => [...m[1]!.matchAll(/`([^`]+)`/g)].map((a) => a[1]!));
    expect([...listed].sort()).to.deep.equal([...AUDIT_ACTIONS].sort());
  });
});
