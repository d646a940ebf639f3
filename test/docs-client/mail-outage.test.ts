// The mail relay failing during invitations, as docs/notifications.md "The outbox" tells the IT
// person, by a client written from the docs alone on one production node (two attempts 10 ms
// apart, due ones looked for every 100 ms, so a refusing relay fails an email within the case): the outbox shows the failure and the
// relay's answer, "Send again" once the relay works sends a link that works, and an address the
// relay says does not exist fails at its first attempt, with no retry.
import { expect } from 'chai';
import { tokenFromMail } from '../support/mail.js';
import { createFirstAdmin, ADMIN, useDeployment, usersCsv, people } from './deployment.js';
import { refusalOf, type Tokens, type UserView } from './http-client.js';

interface OutboxMail {
  id: string;
  category: string;
  to: string;
  status: 'queued' | 'sending' | 'sent' | 'failed';
  attempts: number;
  lastError: string | null;
}

describe('docs client: the mail relay failing during invitations (outbox, send again)', function () {
  this.timeout(60_000);
  const dep = useDeployment('docs-mail-outage', 1, { MAIL_MAX_ATTEMPTS: '2', MAIL_RETRY_BASE_MS: '10', MAIL_OUTBOX_POLL_MS: '100' });
  const pupils = people('o2', 0, 2);
  let admin: Tokens;
  let users: UserView[] = [];
  const http = () => dep.http[0]!;
  const outbox = async (query: string) =>
    (await http().get<{ items: OutboxMail[] }>(`/api/v1/outbox?${query}`, admin.accessToken)).body.items;
  async function until(query: string, count: number): Promise<OutboxMail[]> {
    for (let i = 0; i < 100; i += 1) {
      const items = await outbox(query);
      if (items.length >= count) return items;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`the outbox never listed ${count} for ${query}: ${JSON.stringify(await outbox(''))}`);
  }

  before(async function () {
    this.timeout(180_000);
    await createFirstAdmin(dep);
    admin = await http().login(ADMIN.email, ADMIN.password);
    const imported = await http().request<{ users: UserView[] }>('POST', '/api/v1/users/import', {
      token: admin.accessToken,
      raw: usersCsv(pupils),
      contentType: 'text/csv',
    });
    users = imported.body.users;
  });

  it('the relay refusing: the invitation fails, the outbox shows its answer; sent again once it works, its link works', async () => {
    dep.smtp.refuse(true);
    const invited = await http().post<{ queued: number }>(`/api/v1/users/${users[0]!.id}/invite`, {}, admin.accessToken);
    expect(invited.status, invited.text).to.equal(202);
    const [failed] = await until(`status=failed&recipient=${encodeURIComponent(pupils[0]!.email)}`, 1);
    expect(failed).to.include({ category: 'invitation', attempts: 2 });
    expect(failed!.lastError).to.include('451');
    dep.smtp.refuse(false);
    const before = dep.smtp.received.length;
    const again = await http().post(`/api/v1/outbox/${failed!.id}/retry`, {}, admin.accessToken);
    expect(again.status, again.text).to.be.within(200, 299);
    const mail = await dep.smtp.next(pupils[0]!.email, before);
    const set = await http().post('/api/v1/auth/reset-password', { token: tokenFromMail(mail.raw), password: pupils[0]!.password });
    expect(set.status, 'the link made at the successful attempt works').to.equal(204);
    await http().login(pupils[0]!.email, pupils[0]!.password);
    const sent = await until(`status=sent&recipient=${encodeURIComponent(pupils[0]!.email)}`, 1);
    expect(sent[0]!.attempts, 'its attempts are kept').to.equal(3);
  });

  it('an address the relay says does not exist fails at its first attempt; retrying a sent email is 404', async () => {
    dep.smtp.noSuchMailbox(pupils[1]!.email);
    await http().post(`/api/v1/users/${users[1]!.id}/invite`, {}, admin.accessToken);
    const [failed] = await until(`status=failed&recipient=${encodeURIComponent(pupils[1]!.email)}`, 1);
    expect(failed!.lastError).to.include('550');
    expect(failed!.attempts, 'no retry can deliver it').to.equal(1);
    const [sent] = await outbox(`status=sent&recipient=${encodeURIComponent(pupils[0]!.email)}`);
    expect(refusalOf(await http().post(`/api/v1/outbox/${sent!.id}/retry`, {}, admin.accessToken))).to.deep.equal([404, 'NOT_FOUND']);
  });
});
