// A deployment as README "First run in production" and docs/deploy.md "Several nodes without
// Docker" describe it: two production nodes (own processes, own NODE_ID and PORT) on one store and
// one real Redis, emails through a real SMTP server, the first admin made with the admin CLI.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { startSmtpServer, tokenFromMail, type TestSmtpServer } from '../support/mail.js';
import { useRedis, type RedisSuite } from '../support/redis-server.js';
import { HttpClient, type Tokens, type UserView } from './http-client.js';
import { runAdminCli, startServiceNode, type CliRun, type ServiceNode } from './service.js';
import { connect, type DocsSocket } from './socket-client.js';

export const ORG = { slug: 'docs', name: 'Docs School', timezone: 'Europe/Paris' };
export const ADMIN = { email: 'head@docs-school.test', name: 'Head Teacher', password: 'head-teacher-pass-1' };
export const PUBLIC_URL = 'https://attendance.docs-school.test';

/**
 * The calendar day `days` from today in the organisation's zone, and its ISO weekday. Days are
 * counted on the calendar, not as 24 hours from now: a day of a clock change lasts 23 or 25 hours.
 */
export function localDay(days: number, now = new Date()): { day: string; weekday: number } {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: ORG.timezone }).format(now);
  const at = new Date(`${today}T12:00:00Z`);
  at.setUTCDate(at.getUTCDate() + days);
  return { day: at.toISOString().slice(0, 10), weekday: ((at.getUTCDay() + 6) % 7) + 1 };
}

export interface Deployment {
  readonly redisSuite: RedisSuite;
  readonly smtp: TestSmtpServer;
  readonly nodes: ServiceNode[];
  /** One HttpClient per node. */
  readonly http: HttpClient[];
  /** The environment every node shares (README: only PORT and NODE_ID differ). */
  readonly env: Record<string, string>;
  admin(args: string[], stdin?: string): Promise<CliRun>;
  startNode(nodeId: string, extra?: Record<string, string>): Promise<ServiceNode>;
}

/** Mocha hooks: Redis, SMTP and `count` nodes before the suite; all stopped after it. */
export function useDeployment(name: string, count = 2, extraEnv: Record<string, string> = {}): Deployment {
  const redisSuite = useRedis(name);
  let smtp: TestSmtpServer | null = null;
  const nodes: ServiceNode[] = [];
  const http: HttpClient[] = [];
  const env: Record<string, string> = {};

  const deployment: Deployment = {
    redisSuite,
    get smtp() {
      if (!smtp) throw new Error('SMTP not started');
      return smtp;
    },
    nodes,
    http,
    env,
    admin: (args, stdin) => runAdminCli(args, env, stdin),
    async startNode(nodeId, extra = {}) {
      // PORT=0: the node binds a port of the kernel's choosing and its `listening on` line names it.
      return startServiceNode({ ...env, NODE_ID: nodeId, PORT: '0', ...extra });
    },
  };

  before(async function () {
    this.timeout(180_000);
    smtp = await startSmtpServer();
    Object.assign(env, {
      NODE_ENV: 'production',
      DATA_DIR: redisSuite.dir,
      SQLITE_PATH: path.join(redisSuite.dir, 'attendance.db'),
      REDIS_URL: redisSuite.redis.url,
      JWT_SECRET: randomBytes(36).toString('base64url'),
      PUBLIC_URL,
      HOST: '127.0.0.1',
      SMTP_URL: smtp.url,
      MAIL_FROM: 'Docs School <attendance@docs-school.test>',
      FACE_ENABLED: 'false',
      HTTP_HEAVY_RATE_PER_MINUTE: '600',
      // README: BCRYPT_COST 4..15, 12 by default. At 12 every login, password set and admin
      // create costs a bcryptjs pass of about 0.35 s on a node's main thread (1 to 2 s on a
      // loaded machine), which made the login refusals case take 7.6 s quiet and time out under
      // load; the cost is the operator's choice and no case here is about it.
      BCRYPT_COST: '4',
      ...extraEnv,
    });
    for (let i = 0; i < count; i += 1) {
      const node = await deployment.startNode(`docs-${String.fromCharCode(97 + i)}`);
      nodes.push(node);
      http.push(new HttpClient(node.url));
    }
  });
  redisSuite.beforeStop(async () => {
    for (const node of nodes) await node.stop();
    await smtp?.close();
  });
  return deployment;
}

/** README "First run in production": `org create`, then `admin create --password-stdin`. */
export async function createFirstAdmin(dep: Deployment): Promise<void> {
  const org = await dep.admin(['org', 'create', '--name', ORG.name, '--slug', ORG.slug, '--timezone', ORG.timezone]);
  if (org.code !== 0) throw new Error(`org create: ${org.code} ${org.stdout}${org.stderr}`);
  const admin = await dep.admin(
    ['admin', 'create', '--org', ORG.slug, '--email', ADMIN.email, '--name', ADMIN.name, '--password-stdin'],
    ADMIN.password,
  );
  if (admin.code !== 0) throw new Error(`admin create: ${admin.code} ${admin.stdout}${admin.stderr}`);
}

/**
 * README "First run in production" to "Inviting users": the first admin made with the admin CLI
 * and logged in on the first node, who imports and invites `list` (importAndInvite).
 */
export async function firstRunWith(dep: Deployment, list: Person[]): Promise<{ admin: Tokens; users: Map<string, UserView> }> {
  await createFirstAdmin(dep);
  const admin = await dep.http[0]!.login(ADMIN.email, ADMIN.password);
  return { admin, users: await importAndInvite(dep, admin.accessToken, list) };
}

/**
 * A suite's `open(node, token)`: a docs client's socket on node `node`, authenticated with what
 * `token` answers at each connection; the mocha hook closes every socket it opened after the suite.
 */
export function useSockets(dep: Deployment): (node: number, token: () => string) => Promise<DocsSocket> {
  const sockets: DocsSocket[] = [];
  after(() => sockets.forEach((s) => s.close()));
  return async (node, token) => {
    const socket = await connect(dep.nodes[node]!.url, token);
    sockets.push(socket);
    return socket;
  };
}

export interface Person {
  name: string;
  email: string;
  role: 'teacher' | 'student';
  studentNumber: string;
  password: string;
}

export function people(prefix: string, teachers: number, students: number): Person[] {
  const list: Person[] = [];
  for (let i = 1; i <= teachers; i += 1)
    list.push({
      name: `${prefix} Teacher ${i}`,
      email: `${prefix}.t${i}@docs-school.test`,
      role: 'teacher',
      studentNumber: '',
      password: `teacher-pass-${i}-x`,
    });
  for (let i = 1; i <= students; i += 1)
    list.push({
      name: `${prefix} Student ${String(i).padStart(2, '0')}`,
      email: `${prefix}.s${i}@docs-school.test`,
      role: 'student',
      studentNumber: `${prefix.toUpperCase()}${1000 + i}`,
      password: `student-pass-${i}-x`,
    });
  return list;
}

export function usersCsv(list: Person[]): string {
  return ['name,email,role,student_number', ...list.map((p) => `${p.name},${p.email},${p.role},${p.studentNumber}`)].join('\n') + '\n';
}

/**
 * Imports `list` (README "CSV user import"), invites them in one request (README "Inviting
 * users") and sets each password from the link the SMTP server received. Answers the users.
 */
export async function importAndInvite(dep: Deployment, adminToken: string, list: Person[]): Promise<Map<string, UserView>> {
  const http = dep.http[0]!;
  const imported = await http.request<{ users: UserView[] }>('POST', '/api/v1/users/import', {
    token: adminToken,
    raw: usersCsv(list),
    contentType: 'text/csv',
  });
  if (imported.status !== 201) throw new Error(`import: ${imported.status} ${imported.text}`);
  const byEmail = new Map(imported.body.users.map((u) => [u.email, u]));
  const before = dep.smtp.received.length;
  const invited = await http.post('/api/v1/users/invitations', { userIds: [...byEmail.values()].map((u) => u.id) }, adminToken);
  if (invited.status !== 202) throw new Error(`invitations: ${invited.status} ${invited.text}`);
  for (const person of list) {
    const mail = await dep.smtp.next(person.email, before);
    const reset = await http.post('/api/v1/auth/reset-password', { token: tokenFromMail(mail.raw), password: person.password });
    if (reset.status !== 204) throw new Error(`reset-password of ${person.email}: ${reset.status} ${reset.text}`);
  }
  return byEmail;
}
