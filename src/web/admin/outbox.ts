/**
 * The email outbox (docs/notifications.md): each notification email with its status, attempts
 * and the SMTP server's last answer. The server retries by itself; an email failed for good can
 * be sent again (POST /outbox/{id}/retry) once the cause is fixed.
 */
import { apiJson } from '../lib/auth.js';
import { announce, byId, dateTime, errorText, h } from '../lib/dom.js';
import { at } from '../lib/admin-text.js';
import { formatNumber } from '../lib/i18n.js';
import type { Page } from './types.js';
import { OUTBOX_CATEGORIES } from '../../shared/alerts.js';

interface OutboxRow {
  id: string;
  category: string;
  to: string;
  subject: string;
  status: 'queued' | 'sending' | 'sent' | 'failed';
  attempts: number;
  lastError: string | null;
  nextAttemptAt: string;
  createdAt: string;
  sentAt: string | null;
}

const PAGE = 50;
let offset = 0;

const CATEGORIES = OUTBOX_CATEGORIES;
const categoryText = (category: string): string =>
  (CATEGORIES as readonly string[]).includes(category) ? at(`outbox.kind.${category as (typeof CATEGORIES)[number]}`) : category;

function statusText(m: OutboxRow): string {
  if (m.status === 'sent') return at('outbox.sentAt', { when: dateTime(m.sentAt) });
  if (m.status === 'failed') return at('outbox.failedForGood');
  if (m.status === 'sending') return at('outbox.sending');
  return m.attempts === 0 ? at('outbox.queued') : at('outbox.queuedNext', { when: dateTime(m.nextAttemptAt) });
}

function retryButton(m: OutboxRow): HTMLButtonElement {
  const button = h(
    'button',
    { type: 'button', 'aria-label': at('outbox.sendAgainOf', { to: m.to, subject: m.subject }) },
    at('outbox.sendAgain'),
  );
  button.addEventListener('click', () => {
    button.disabled = true;
    byId('outbox-error').textContent = '';
    apiJson<OutboxRow>(`api/v1/outbox/${encodeURIComponent(m.id)}/retry`, { method: 'POST' })
      .then(async (answer) => {
        await loadOutbox();
        // Another id: the user already had an email of this kind waiting, which goes instead.
        announce(byId('outbox-live'), at(answer.id === m.id ? 'outbox.requeued' : 'outbox.newerWaiting', { to: m.to }));
      })
      .catch((err: unknown) => {
        button.disabled = false;
        byId('outbox-error').textContent = errorText(err);
      });
  });
  return button;
}

function row(m: OutboxRow): HTMLTableRowElement {
  return h(
    'tr',
    { 'data-mail-id': m.id, 'data-status': m.status },
    h('th', { scope: 'row' }, h('time', { datetime: m.createdAt }, dateTime(m.createdAt))),
    h('td', { class: 'wrap' }, m.to),
    h('td', { class: 'wrap' }, m.subject),
    h('td', {}, categoryText(m.category)),
    h('td', {}, statusText(m)),
    h('td', {}, formatNumber(m.attempts)),
    h('td', { class: 'wrap' }, m.lastError ?? ''),
    h('td', {}, m.status === 'failed' ? retryButton(m) : ''),
  );
}

export async function loadOutbox(): Promise<void> {
  const status = byId<HTMLSelectElement>('outbox-status').value;
  const params = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  if (status) params.set('status', status);
  const recipient = byId<HTMLInputElement>('outbox-recipient').value.trim();
  if (recipient) params.set('recipient', recipient);
  const page = await apiJson<Page<OutboxRow>>(`api/v1/outbox?${params}`);
  byId('outbox-body').replaceChildren(...page.items.map(row));
  const text =
    page.items.length === 0
      ? at('outbox.none')
      : at('outbox.shown', {
          from: formatNumber(offset + 1),
          to: formatNumber(offset + page.items.length),
          total: formatNumber(page.total),
        });
  byId('outbox-caption').textContent = text;
  announce(byId('outbox-live'), text);
  byId<HTMLButtonElement>('outbox-prev').disabled = offset === 0;
  byId<HTMLButtonElement>('outbox-next').disabled = offset + PAGE >= page.total;
}

export function bindOutbox(): void {
  const reload = () => void loadOutbox().catch((err: unknown) => (byId('outbox-error').textContent = errorText(err)));
  byId<HTMLFormElement>('outbox-filter').addEventListener('submit', (event) => {
    event.preventDefault();
    byId('outbox-error').textContent = '';
    offset = 0;
    reload();
  });
  byId('outbox-prev').addEventListener('click', () => {
    offset = Math.max(0, offset - PAGE);
    reload();
  });
  byId('outbox-next').addEventListener('click', () => {
    offset += PAGE;
    reload();
  });
}
