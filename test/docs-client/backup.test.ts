// The IT person's backups, from docs/backup.md alone: `npm run backup -- backup --to FILE` while a
// production node serves, a restore refused while the node still has the store open, then the
// node stopped, the backup restored and the node started again on the data of the backup.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { ADMIN, createFirstAdmin, useDeployment } from './deployment.js';
import { HttpClient, type Tokens } from './http-client.js';
import { runBackupCli } from './service.js';

describe('docs client: backups of the SQLite store (one production node)', function () {
  this.timeout(120_000);
  const dep = useDeployment('docs-backup', 1);
  let admin: Tokens;
  const backupFile = () => path.join(dep.redisSuite.dir, 'backups', 'attendance-before-b.db');
  const subjectCodes = async () =>
    (await dep.http[0]!.get<{ items: { code: string }[] }>('/api/v1/subjects', admin.accessToken)).body.items.map((s) => s.code).sort();

  before(async function () {
    this.timeout(180_000);
    await createFirstAdmin(dep);
    admin = await dep.http[0]!.login(ADMIN.email, ADMIN.password);
    const a = await dep.http[0]!.post('/api/v1/subjects', { code: 'BK-A', name: 'Before the backup' }, admin.accessToken);
    expect(a.status, a.text).to.equal(201);
  });

  it('usage: no command is exit 2, --help prints the usage', async () => {
    const bare = await runBackupCli([], dep.env);
    expect(bare.code, bare.stdout + bare.stderr).to.equal(2);
    const help = await runBackupCli(['--help'], dep.env);
    expect(help.code, help.stdout + help.stderr).to.equal(0);
    expect(help.stdout + help.stderr)
      .to.include('restore')
      .and.include('--to');
  });

  it('backs the running store up into one file, while the node serves', async () => {
    const missing = await runBackupCli(['backup', '--to', backupFile()], dep.env);
    expect(missing.code, 'backup.md: the folder of --to must exist').to.equal(1);
    expect(missing.stderr).to.include(`no folder ${path.dirname(backupFile())} for the backup: make it first`);
    mkdirSync(path.dirname(backupFile()), { mode: 0o700 });
    const run = await runBackupCli(['backup', '--to', backupFile()], dep.env);
    expect(run.code, run.stdout + run.stderr).to.equal(0);
    expect(statSync(backupFile()).size).to.be.greaterThan(0);
    // "one self-contained file ... no -wal or -shm beside it"
    expect(existsSync(`${backupFile()}-wal`)).to.equal(false);
    expect(existsSync(`${backupFile()}-shm`)).to.equal(false);
    const b = await dep.http[0]!.post('/api/v1/subjects', { code: 'BK-B', name: 'After the backup' }, admin.accessToken);
    expect(b.status, b.text).to.equal(201);
    expect(await subjectCodes()).to.deep.equal(['BK-A', 'BK-B']);
  });

  it('a restore while the node runs is refused, exit 1, nothing changed', async () => {
    const run = await runBackupCli(['restore', '--from', backupFile()], dep.env);
    expect(run.code, run.stdout + run.stderr).to.equal(1);
    expect(run.stdout + run.stderr)
      .to.include('is open in a running node')
      .and.include('stop every node that uses it');
    expect(await subjectCodes()).to.deep.equal(['BK-A', 'BK-B']);
  });

  it('stopped, restored and started again, the node serves the backup; the replaced store is kept beside it', async () => {
    expect(await dep.nodes[0]!.stop()).to.equal(0);
    const missing = await runBackupCli(['restore', '--from', path.join(dep.redisSuite.dir, 'no-such.db')], dep.env);
    expect(missing.code, 'a backup that is not there fails before anything moves').to.equal(1);
    const run = await runBackupCli(['restore', '--from', backupFile()], dep.env);
    expect(run.code, run.stdout + run.stderr).to.equal(0);
    expect(existsSync(`${dep.env['SQLITE_PATH']}.before-restore`)).to.equal(true);
    const node = await dep.startNode('docs-a');
    dep.nodes[0] = node;
    dep.http[0] = new HttpClient(node.url);
    // The restored store holds the logins of the backup's time: the admin logs in again.
    admin = await dep.http[0].login(ADMIN.email, ADMIN.password);
    expect(await subjectCodes()).to.deep.equal(['BK-A']);
  });
});
