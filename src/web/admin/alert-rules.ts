/**
 * Alert rules (docs/notifications.md): when a student starts missing classes, the subject's
 * teachers and the admins are told in the app and by email. Admins list, add and remove rules.
 */
import { ALERT_RULE_KINDS, type AlertRuleKind } from '../../shared/alerts.js';
import { apiFetch, apiJson } from '../lib/auth.js';
import { announce, byId, dateTime, errorText, h, show } from '../lib/dom.js';
import { at } from '../lib/admin-text.js';
import { formatNumber } from '../lib/i18n.js';
import { jsonBody } from './fetch-all.js';

interface AlertRule {
  id: string;
  kind: AlertRuleKind;
  count: number;
  thresholdPct: number | null;
  windowDays: number | null;
  createdAt: string;
}

/** The choice as offered, and which of the optional fields each kind takes. */
const KINDS: Record<AlertRuleKind, { key: 'consecutive' | 'low' | 'late'; threshold: boolean; window: boolean }> = {
  'consecutive-absences': { key: 'consecutive', threshold: false, window: false },
  'low-attendance': { key: 'low', threshold: true, window: true },
  'repeated-lateness': { key: 'late', threshold: false, window: true },
};

const orUnknown = (n: number | null): string => (n === null ? '?' : formatNumber(n));

/** A rule as a sentence, e.g. "Attendance under 80 % over 30 days (once 5 sessions were held)". */
function ruleText(r: Pick<AlertRule, 'kind' | 'count' | 'thresholdPct' | 'windowDays'>): string {
  switch (r.kind) {
    case 'consecutive-absences':
      return at('alerts.text.consecutive', { count: r.count });
    case 'low-attendance':
      return at('alerts.text.low', { pct: orUnknown(r.thresholdPct), days: orUnknown(r.windowDays), count: r.count });
    case 'repeated-lateness':
      return at('alerts.text.late', { days: orUnknown(r.windowDays), count: r.count });
  }
}

function row(r: AlertRule): HTMLTableRowElement {
  const text = ruleText(r);
  const remove = h('button', { type: 'button', class: 'danger', 'aria-label': at('alerts.removeOf', { rule: text }) }, at('alerts.remove'));
  remove.addEventListener('click', () => {
    if (!confirm(at('alerts.confirmRemove', { rule: text }))) return;
    remove.disabled = true;
    byId('alerts-error').textContent = '';
    apiFetch(`api/v1/alert-rules/${encodeURIComponent(r.id)}`, { method: 'DELETE' })
      .then(async () => {
        announce(byId('alerts-status'), at('alerts.removed', { rule: text }));
        await loadAlertRules();
      })
      .catch((err: unknown) => {
        remove.disabled = false;
        byId('alerts-error').textContent = errorText(err);
      });
  });
  return h('tr', { 'data-rule-id': r.id }, h('th', { scope: 'row' }, text), h('td', {}, dateTime(r.createdAt)), h('td', {}, remove));
}

export async function loadAlertRules(): Promise<void> {
  const { items } = await apiJson<{ items: AlertRule[] }>('api/v1/alert-rules');
  const body = byId('alert-rules-body');
  body.replaceChildren(...items.map(row));
  if (items.length === 0) body.append(h('tr', {}, h('td', { colspan: 3 }, at('alerts.none'))));
}

function selectedKind(): AlertRuleKind {
  const value = byId<HTMLSelectElement>('ar-kind').value;
  return (ALERT_RULE_KINDS as readonly string[]).includes(value) ? (value as AlertRuleKind) : 'consecutive-absences';
}

/** Shows the fields the chosen kind takes; hidden ones are disabled so the form does not require them. */
function showFields(): void {
  const kind = KINDS[selectedKind()];
  byId('ar-count-label').textContent = at(`alerts.count.${kind.key}`);
  for (const [id, on] of [
    ['ar-threshold', kind.threshold],
    ['ar-window', kind.window],
  ] as const) {
    show(byId(`${id}-field`), on);
    byId<HTMLInputElement>(id).disabled = !on;
  }
}

export function bindAlertRules(): void {
  const select = byId<HTMLSelectElement>('ar-kind');
  select.replaceChildren(...ALERT_RULE_KINDS.map((k) => h('option', { value: k }, at(`alerts.kind.${KINDS[k].key}`))));
  select.addEventListener('change', showFields);
  showFields();
  const form = byId<HTMLFormElement>('alert-rule-form');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const kind = selectedKind();
    const number = (id: string) => Number(byId<HTMLInputElement>(id).value);
    const body = {
      kind,
      count: number('ar-count'),
      thresholdPct: KINDS[kind].threshold ? number('ar-threshold') : null,
      windowDays: KINDS[kind].window ? number('ar-window') : null,
    };
    byId('alert-rule-error').textContent = '';
    apiJson<AlertRule>('api/v1/alert-rules', jsonBody('POST', body))
      .then(async (created) => {
        form.reset();
        showFields();
        announce(byId('alerts-status'), at('alerts.addedRule', { rule: ruleText(created) }));
        await loadAlertRules();
      })
      .catch((err: unknown) => (byId('alert-rule-error').textContent = errorText(err, form)));
  });
}
