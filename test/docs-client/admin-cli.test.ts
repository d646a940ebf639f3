// The operator's admin CLI beyond the first admin, from README "First run in production" and
// docs/oneroster.md alone, beside one running production node: organisations listed and renamed,
// an admin with a generated password shown once, a password from standard input with its line
// break, the exit codes, and a OneRoster directory imported with a refused row.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { ADMIN, ORG, createFirstAdmin, useDeployment } from './deployment.js';
import type { Tokens, UserView } from './http-client.js';

const BUNDLE: Record<string, string> = {
  manifest: [
    'propertyName,value',
    'manifest.version,1.0',
    'oneroster.version,1.1',
    'file.academicSessions,bulk',
    'file.orgs,bulk',
    'file.users,bulk',
    'file.classes,bulk',
    'file.enrollments,bulk',
    'file.courses,absent',
    'file.demographics,absent',
  ].join('\n'),
  orgs: 'sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\norg-1,,,Docs School,school,DS,',
  academicSessions:
    'sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear\nterm-1,,,Year,schoolYear,2026-01-01,2027-12-31,,2027',
  users: [
    'sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password',
    'u-t,,,true,org-1,teacher,tk,,Tom,Keller,,,tom.keller@docs-school.test,,,,,',
    'u-s1,,,true,org-1,student,s1,,Ana,Alves,,D0001,ana.alves@docs-school.test,,,,,',
    'u-bad,,,true,org-1,student,s9,,Eve,Error,,D0009,not-an-email,,,,,',
  ].join('\n'),
  classes:
    'sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods\n' +
    'class-1,,,Chemistry 1,,course-1,CHEM1,scheduled,,org-1,term-1,,,',
  enrollments: [
    'sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate',
    'e-t,,,class-1,org-1,u-t,teacher,true,,',
    'e-1,,,class-1,org-1,u-s1,student,false,,',
  ].join('\n'),
};

describe("docs client: the operator's admin CLI (organisations, admins, exit codes, OneRoster directory)", function () {
  this.timeout(120_000);
  const dep = useDeployment('docs-admin-cli', 1);
  let admin: Tokens;

  before(async function () {
    this.timeout(180_000);
    await createFirstAdmin(dep);
    admin = await dep.http[0]!.login(ADMIN.email, ADMIN.password);
  });

  it('org list names the organisation; org rename renames it for the running service', async () => {
    const list = await dep.admin(['org', 'list']);
    expect(list.code, list.stderr).to.equal(0);
    const line = list.stdout.split('\n').find((l) => l.includes(ORG.slug));
    expect(line, list.stdout).to.include(ORG.name).and.include(ORG.timezone);
    const renamed = await dep.admin(['org', 'rename', '--org', ORG.slug, '--name', 'Docs Academy']);
    expect(renamed.code, renamed.stderr).to.equal(0);
    const org = await dep.http[0]!.get<{ name: string }>('/api/v1/organisation', admin.accessToken);
    expect(org.body.name).to.equal('Docs Academy');
  });

  it('admin create without --password-stdin prints a strong password once, which logs in', async () => {
    const made = await dep.admin(['admin', 'create', '--org', ORG.slug, '--email', 'deputy@docs-school.test', '--name', 'Deputy Head']);
    expect(made.code, made.stderr).to.equal(0);
    const password = /^password \(shown once\): (\S+)$/m.exec(made.stdout)?.[1];
    expect(password, made.stdout).to.be.a('string');
    expect(password!.length).to.be.at.least(8);
    const deputy = await dep.http[0]!.login('deputy@docs-school.test', password!);
    expect(deputy.user).to.include({ role: 'admin', name: 'Deputy Head' });
  });

  it('--password-stdin drops one trailing line break (echo = printf); a short one is refused', async () => {
    const echoed = await dep.admin(
      ['admin', 'create', '--org', ORG.slug, '--email', 'bursar@docs-school.test', '--name', 'Bursar', '--password-stdin'],
      'bursar-pass-123\n',
    );
    expect(echoed.code, echoed.stderr).to.equal(0);
    await dep.http[0]!.login('bursar@docs-school.test', 'bursar-pass-123');
    const short = await dep.admin(
      ['admin', 'create', '--org', ORG.slug, '--email', 'short@docs-school.test', '--name', 'Short', '--password-stdin'],
      'short',
    );
    expect(short.code, 'at least 8 characters: a failure, its coded error printed').to.equal(1);
    expect(short.stdout + short.stderr).to.include('VALIDATION_FAILED');
  });

  it('exit codes: 1 with the coded error for a taken email, 2 for a wrong argument', async () => {
    const taken = await dep.admin(
      ['admin', 'create', '--org', ORG.slug, '--email', ADMIN.email, '--name', 'Twice', '--password-stdin'],
      'another-pass-1',
    );
    expect(taken.code).to.equal(1);
    expect(taken.stdout + taken.stderr).to.include('EMAIL_TAKEN');
    const wrong = await dep.admin(['org', 'create', '--nmae', 'Typo']);
    expect(wrong.code, wrong.stdout + wrong.stderr).to.equal(2);
  });

  it('oneroster import --dir: a dry run writes nothing; the import takes the good rows and exits 1 for the refused one', async () => {
    const dir = path.join(dep.redisSuite.dir, 'sis-export');
    mkdirSync(dir);
    for (const [name, text] of Object.entries(BUNDLE)) writeFileSync(path.join(dir, `${name}.csv`), `${text}\n`);
    const users = async () =>
      (await dep.http[0]!.get<{ items: UserView[] }>('/api/v1/users?limit=200', admin.accessToken)).body.items.map((u) => u.email);
    const dry = await dep.admin(['oneroster', 'import', '--org', ORG.slug, '--dir', dir, '--dry-run']);
    expect(dry.code, dry.stdout + dry.stderr).to.equal(1);
    expect(await users()).to.not.include('ana.alves@docs-school.test');
    const run = await dep.admin(['oneroster', 'import', '--org', ORG.slug, '--dir', dir]);
    expect(run.code, run.stdout + run.stderr).to.equal(1);
    expect(await users()).to.include.members(['ana.alves@docs-school.test', 'tom.keller@docs-school.test']);
    const subjects = await dep.http[0]!.get<{ items: { code: string; name: string }[] }>('/api/v1/subjects', admin.accessToken);
    expect(subjects.body.items.map((s) => s.name)).to.deep.equal(['Chemistry 1']);
  });
});
