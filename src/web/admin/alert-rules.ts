/**
 * Alert rules (docs/notifications.md): when a student starts missing classes, the subject's
 * teachers and the admins are told in the app and by email. Admins list, add and remove rules.
 */
import { ALERT_RULE_KINDS, type AlertRuleKind } from '../../shared/alerts.js';
import { apiFetch, apiJson } from '../lib/auth.js';
import { announce, byId, dateTime, errorText, h, show } from '../lib/dom.js';
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
const KINDS: Record<AlertRuleKind, { label: string; threshold: boolean; window: boolean; countLabel: string }> = {
  'consecutive-absences': { label: 'Absences in a row', threshold: false, window: false, countLabel: 'Absences in a row' },
  'low-attendance': {
    label: 'Attendance under a percentage',
    threshold: true,
    window: true,
    countLabel: 'Sessions held in the window before attendance is judged',
  },
  'repeated-lateness': { label: 'Late arrivals', threshold: false, window: true, countLabel: 'Late arrivals in the window' },
};

/** A rule as a sentence, e.g. "Attendance under 80 % over 30 days (once 5 sessions were held)". */
function ruleText(r: Pick<AlertRule, 'kind' | 'count' | 'thresholdPct' | 'windowDays'>): string {
  switch (r.kind) {
    case 'consecutive-absences':
      return `${r.count} absences in a row`;
    case 'low-attendance':
      return `Attendance under ${r.thresholdPct ?? '?'} % over ${r.windowDays ?? '?'} days (once ${r.count} sessions were held)`;
    case 'repeated-lateness':
      return `Late ${r.count} times within ${r.windowDays ?? '?'} days`;
  }
}

function row(r: AlertRule): HTMLTableRowElement {
  const text = ruleText(r);
  const remove = h('button', { type: 'button', class: 'danger', 'aria-label': `Remove the rule: ${text}` }, 'Remove');
  remove.addEventListener('click', () => {
    if (!confirm(`Remove the rule "${text}"? Alerts already sent stay.`)) return;
    remove.disabled = true;
    byId('alerts-error').textContent = '';
    apiFetch(`api/v1/alert-rules/${encodeURIComponent(r.id)}`, { method: 'DELETE' })
      .then(async () => {
        announce(byId('alerts-status'), `Removed the rule: ${text}.`);
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
  if (items.length === 0) body.append(h('tr', {}, h('td', { colspan: 3 }, 'No rule yet: nobody is alerted.')));
}

function selectedKind(): AlertRuleKind {
  const value = byId<HTMLSelectElement>('ar-kind').value;
  return (ALERT_RULE_KINDS as readonly string[]).includes(value) ? (value as AlertRuleKind) : 'consecutive-absences';
}

/** Shows the fields the chosen kind takes; hidden ones are disabled so the form does not require them. */
function showFields(): void {
  const kind = KINDS[selectedKind()];
  byId('ar-count-label').textContent = kind.countLabel;
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
  select.replaceChildren(...ALERT_RULE_KINDS.map((k) => h('option', { value: k }, KINDS[k].label)));
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
        announce(byId('alerts-status'), `Added the rule: ${ruleText(created)}.`);
        await loadAlertRules();
      })
      .catch((err: unknown) => (byId('alert-rule-error').textContent = errorText(err)));
  });
}
