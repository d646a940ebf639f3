/**
 * Webhooks (docs/webhooks.md): the organisation's endpoints with their recent deliveries; add
 * one, pause or re-enable it, rotate its signing secret, delete it, read its delivery log and
 * send a delivery again. A secret is shown once, right after it was made.
 */
import { WEBHOOK_EVENTS, type DeliveryState, type WebhookEventType } from '../../shared/webhooks.js';
import { apiFetch, apiJson } from '../lib/auth.js';
import { announce, byId, dateTime, errorText, h, show } from '../lib/dom.js';
import { at } from '../lib/admin-text.js';
import { formatNumber } from '../lib/i18n.js';
import { jsonBody } from './fetch-all.js';
import type { Page } from './types.js';

interface Endpoint {
  id: string;
  url: string;
  description: string | null;
  events: WebhookEventType[];
  active: boolean;
  failingSince: string | null;
  disabledAt: string | null;
  disabledReason: string | null;
  createdAt: string;
}

interface Delivery {
  id: string;
  event: WebhookEventType;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: string;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

/** What each event means to whoever picks it; typed so a new event cannot be left out. */
const eventText = (event: WebhookEventType): string => at(`webhooks.event.${event}`);

const stateText = (state: DeliveryState): string => at(`webhooks.state.${state}`);

/** Deliveries read per endpoint for the list's "recent deliveries" column. */
const RECENT = 10;

const path = (id: string) => `api/v1/webhooks/${encodeURIComponent(id)}`;
const fail = (err: unknown) => (byId('webhooks-error').textContent = errorText(err));

function statusText(e: Endpoint): string {
  if (!e.active) {
    if (!e.disabledReason) return at('webhooks.paused');
    // The server turns an endpoint off for one reason, failing since `failingSince` (kept when it
    // is turned off): said from those fields in the page's language, not from the English reason.
    return e.failingSince
      ? at('webhooks.disabledFailing', { when: dateTime(e.disabledAt), since: dateTime(e.failingSince) })
      : at('webhooks.disabled', { when: dateTime(e.disabledAt), reason: e.disabledReason });
  }
  return e.failingSince ? at('webhooks.failing', { when: dateTime(e.failingSince) }) : at('webhooks.active');
}

function lastResult(d: Delivery): string {
  if (d.lastStatus !== null) return `HTTP ${d.lastStatus}`;
  return d.lastError ?? at('webhooks.notTried');
}

function recentText(items: Delivery[], total: number): string {
  const latest = items[0];
  if (!latest) return at('webhooks.noneYet');
  const counts = new Map<DeliveryState, number>();
  for (const d of items) counts.set(d.state, (counts.get(d.state) ?? 0) + 1);
  const tally = [...counts]
    .map(([state, n]) => at('webhooks.tallyItem', { n: formatNumber(n), state: stateText(state).toLowerCase() }))
    .join(', ');
  const latestState = {
    state: stateText(latest.state).toLowerCase(),
    when: dateTime(latest.deliveredAt ?? latest.createdAt),
    result: lastResult(latest),
    tally,
  };
  return total > items.length
    ? at('webhooks.latestOfLast', { ...latestState, shown: formatNumber(items.length) })
    : at('webhooks.latestInAll', latestState);
}

/** Shows a secret that the server will never show again, until the admin says it is saved. */
function showSecret(endpoint: Endpoint & { secret: string }, why: string): void {
  byId('wh-secret-why').textContent = why;
  byId('wh-secret-url').textContent = endpoint.url;
  byId<HTMLInputElement>('wh-secret-value').value = endpoint.secret;
  byId('wh-secret-copied').textContent = '';
  show(byId('wh-secret'), true);
  byId('wh-secret-title').focus();
}

function hideSecret(): void {
  byId<HTMLInputElement>('wh-secret-value').value = '';
  show(byId('wh-secret'), false);
}

function actionButton(label: string, e: Endpoint, run: () => Promise<unknown>, cls = ''): HTMLButtonElement {
  const button = h('button', { type: 'button', class: cls, 'aria-label': at('webhooks.actionOf', { action: label, url: e.url }) }, label);
  button.addEventListener('click', () => {
    byId('webhooks-error').textContent = '';
    button.disabled = true;
    run()
      .catch(fail)
      .finally(() => (button.disabled = false));
  });
  return button;
}

function row(e: Endpoint, recent: string): HTMLTableRowElement {
  const actions = h(
    'div',
    { class: 'row' },
    actionButton(at('webhooks.log'), e, () => openLog(e)),
    actionButton(at(e.active ? 'webhooks.pause' : 'webhooks.enable'), e, async () => {
      await apiJson(path(e.id), jsonBody('PATCH', { active: !e.active }));
      announce(byId('webhooks-status'), at(e.active ? 'webhooks.pausedUrl' : 'webhooks.enabledUrl', { url: e.url }));
      await loadWebhooks();
    }),
    actionButton(at('webhooks.rotate'), e, async () => {
      if (!confirm(at('webhooks.confirmRotate', { url: e.url }))) return;
      showSecret(await apiJson<Endpoint & { secret: string }>(`${path(e.id)}/rotate-secret`, { method: 'POST' }), at('webhooks.newSecret'));
    }),
    actionButton(
      at('webhooks.delete'),
      e,
      async () => {
        if (!confirm(at('webhooks.confirmDelete', { url: e.url }))) return;
        await apiFetch(path(e.id), { method: 'DELETE' });
        if (byId('wh-log').dataset['endpointId'] === e.id) show(byId('wh-log'), false);
        announce(byId('webhooks-status'), at('webhooks.deleted', { url: e.url }));
        await loadWebhooks();
      },
      'danger',
    ),
  );
  return h(
    'tr',
    { 'data-endpoint-id': e.id },
    h('th', { scope: 'row', class: 'wrap' }, e.url, e.description ? h('span', { class: 'muted' }, ` · ${e.description}`) : null),
    h('td', {}, h('ul', { class: 'flags' }, ...e.events.map((ev) => h('li', {}, h('code', {}, ev))))),
    h('td', { class: 'wh-state' }, statusText(e)),
    h('td', { class: 'wh-recent' }, recent),
    h('td', { class: 'actions' }, actions),
  );
}

async function recentOf(e: Endpoint): Promise<string> {
  const page = await apiJson<Page<Delivery>>(`${path(e.id)}/deliveries?limit=${RECENT}`);
  return recentText(page.items, page.total);
}

export async function loadWebhooks(): Promise<void> {
  const { items } = await apiJson<{ items: Endpoint[] }>('api/v1/webhooks');
  const recent = await Promise.all(items.map(recentOf));
  const body = byId('wh-body');
  body.replaceChildren(...items.map((e, i) => row(e, recent[i]!)));
  if (items.length === 0) body.append(h('tr', {}, h('td', { colspan: 5 }, at('webhooks.none'))));
  const log = byId('wh-log');
  const shown = items.find((e) => e.id === log.dataset['endpointId']);
  if (!log.hidden && shown) await openLog(shown, false);
}

async function openLog(e: Endpoint, focus = true): Promise<void> {
  const page = await apiJson<Page<Delivery>>(`${path(e.id)}/deliveries?limit=50`);
  const log = byId('wh-log');
  log.dataset['endpointId'] = e.id;
  byId('wh-log-title').textContent = at('webhooks.logOf', { url: e.url });
  byId('wh-log-caption').textContent =
    page.total === 0
      ? at('webhooks.noDelivery')
      : page.total > page.items.length
        ? at('webhooks.newest', { shown: formatNumber(page.items.length), total: formatNumber(page.total) })
        : at('webhooks.all', { count: page.total });
  byId('wh-log-body').replaceChildren(
    ...page.items.map((d) => {
      const again = h(
        'button',
        { type: 'button', 'aria-label': at('webhooks.sendAgainOf', { event: d.event, when: dateTime(d.createdAt) }) },
        at('webhooks.sendAgain'),
      );
      again.addEventListener('click', () => {
        again.disabled = true;
        apiJson(`api/v1/webhook-deliveries/${encodeURIComponent(d.id)}/redeliver`, { method: 'POST' })
          .then(() => {
            announce(byId('webhooks-status'), at('webhooks.requeued'));
            return openLog(e, false);
          })
          .catch((err: unknown) => {
            again.disabled = false;
            fail(err);
          });
      });
      const state =
        d.state === 'pending' && d.attempts > 0
          ? at('webhooks.nextTry', { state: stateText(d.state), when: dateTime(d.nextAttemptAt) })
          : stateText(d.state);
      return h(
        'tr',
        { 'data-delivery-id': d.id },
        h('td', {}, dateTime(d.createdAt)),
        h('td', {}, h('code', {}, d.event)),
        h('td', {}, state),
        h('td', {}, formatNumber(d.attempts)),
        h('td', { class: 'wrap' }, lastResult(d)),
        h('td', {}, again),
      );
    }),
  );
  show(log, true);
  if (focus) byId('wh-log-title').focus();
}

export function bindWebhooks(): void {
  byId('wh-events').append(
    ...WEBHOOK_EVENTS.map((ev) =>
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'events', value: ev }), h('code', {}, ev), ` ${eventText(ev)}`),
    ),
  );
  const form = byId<HTMLFormElement>('wh-form');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const events = data.getAll('events').map(String);
    byId('wh-form-error').textContent = '';
    if (events.length === 0) {
      byId('wh-form-error').textContent = at('webhooks.pickEvent');
      return;
    }
    const description = String(data.get('description') ?? '').trim();
    const body = { url: String(data.get('url') ?? '').trim(), events, ...(description ? { description } : {}) };
    apiJson<Endpoint & { secret: string }>('api/v1/webhooks', jsonBody('POST', body))
      .then(async (created) => {
        form.reset();
        showSecret(created, at('webhooks.secret'));
        await loadWebhooks();
      })
      .catch((err: unknown) => (byId('wh-form-error').textContent = errorText(err, form)));
  });
  byId('wh-secret-copy').addEventListener('click', () => {
    const input = byId<HTMLInputElement>('wh-secret-value');
    navigator.clipboard
      .writeText(input.value)
      .then(() => announce(byId('wh-secret-copied'), at('webhooks.copied')))
      .catch(() => {
        // Clipboard refused (permissions): leave it selected for Ctrl+C.
        input.select();
        announce(byId('wh-secret-copied'), at('webhooks.selected'));
      });
  });
  byId('wh-secret-done').addEventListener('click', hideSecret);
  byId('wh-log-close').addEventListener('click', () => show(byId('wh-log'), false));
}
