/**
 * Admin console: users (with a student's guardian contacts and subjects), CSV import (users, guardian contacts), OneRoster import
 * and attendance export, subjects and enrolments, classroom location and networks, face references (with consent) and proposals, class photo,
 * terms and holidays, alert rules, organisation settings with absence categories, webhooks, sessions left without a
 * teacher, the email outbox and the
 * audit trail. One page; the address fragment (#users, #import, ...) picks the section,
 * so each can be bookmarked.
 */
import { bindAbsenceCategories, loadAbsenceCategories } from './admin/absence-categories.js';
import { bindAlertRules, loadAlertRules } from './admin/alert-rules.js';
import { bindAudit, loadAudit } from './admin/audit.js';
import { bindCalendar, loadCalendar } from './admin/calendar.js';
import { bindClassPhoto, loadClassPhoto } from './admin/class-photo.js';
import { bindImport } from './admin/csv-import.js';
import { bindGuardianImport } from './admin/guardian-import.js';
import { bindGuardians } from './admin/guardians.js';
import { bindStudentSubjects } from './admin/student-subjects.js';
import { bindTeacherSubjects } from './admin/teacher-subjects.js';
import { bindOneRoster } from './admin/oneroster.js';
import { bindOneRosterExport, loadOneRosterExport } from './admin/oneroster-export.js';
import { bindOutbox, loadOutbox } from './admin/outbox.js';
import { bindUnstaffed, loadUnstaffed, loadUnstaffedCount } from './admin/unstaffed.js';
import { bindFaces } from './admin/faces.js';
import { bindOrganisation, loadOrganisation } from './admin/organisation.js';
import { loadProposals } from './admin/proposals.js';
import { bindSubjects, loadSubjects } from './admin/subjects.js';
import { bindSubjectImport } from './admin/subject-import.js';
import { bindMeetingImport } from './admin/meeting-import.js';
import { bindUsers, loadUsers } from './admin/users.js';
import { bindWebhooks, loadWebhooks } from './admin/webhooks.js';
import { byId, errorText, show } from './lib/dom.js';
import { bindLanguageMenu, bindLogout, requireLogin } from './lib/page.js';
import { initialLanguage, useLanguage } from './lib/i18n.js';
import './lib/admin-text.js';

const TABS = [
  'users',
  'import',
  'oneroster',
  'subjects',
  'faces',
  'proposals',
  'class-photo',
  'calendar',
  'alerts',
  'organisation',
  'webhooks',
  'unstaffed',
  'outbox',
  'audit',
] as const;
type Tab = (typeof TABS)[number];

/** What to (re)load when a section is shown, and where its errors go. */
const LOADERS: Partial<Record<Tab, [() => Promise<unknown>, string]>> = {
  users: [loadUsers, 'users-error'],
  oneroster: [loadOneRosterExport, 'oneroster-export-error'],
  subjects: [loadSubjects, 'subjects-error'],
  proposals: [loadProposals, 'proposals-error'],
  'class-photo': [loadClassPhoto, 'cp-error'],
  calendar: [loadCalendar, 'calendar-error'],
  alerts: [loadAlertRules, 'alerts-error'],
  organisation: [() => Promise.all([loadOrganisation(), loadAbsenceCategories()]), 'org-error'],
  webhooks: [loadWebhooks, 'webhooks-error'],
  unstaffed: [loadUnstaffed, 'unstaffed-error'],
  outbox: [loadOutbox, 'outbox-error'],
  audit: [loadAudit, 'audit-error'],
};

function currentTab(): Tab {
  const wanted = location.hash.slice(1);
  return (TABS as readonly string[]).includes(wanted) ? (wanted as Tab) : 'users';
}

/** How many times each section was loaded: only the latest load may say the section is ready. */
const loads = new Map<Tab, number>();

function showTab(focus: boolean): void {
  const tab = currentTab();
  for (const t of TABS) show(byId(`tab-${t}`), t === tab);
  document.querySelectorAll<HTMLAnchorElement>('.tabs a').forEach((a) => {
    if (a.getAttribute('href') === `#${tab}`) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  const loader = LOADERS[tab];
  if (loader) {
    const [load, errorId] = loader;
    const section = byId(`tab-${tab}`);
    const run = (loads.get(tab) ?? 0) + 1;
    loads.set(tab, run);
    // Until the server's answer is in, the section still shows what it held before (rows that may
    // be gone, a list missing what was added since): busy says so to assistive technology.
    section.setAttribute('aria-busy', 'true');
    byId(errorId).textContent = '';
    void load()
      .catch((err: unknown) => (byId(errorId).textContent = errorText(err)))
      .finally(() => {
        if (loads.get(tab) === run) section.removeAttribute('aria-busy');
      });
  }
  if (focus) byId(`tab-${tab}`).querySelector<HTMLElement>('h1')?.focus();
}

async function main(): Promise<void> {
  // The catalog is in before the first paint in the language this browser last used.
  const first = initialLanguage();
  if (first !== 'en') await useLanguage(first);
  await requireLogin(['admin'], { localised: true });
  show(byId('signed-in'), true);
  bindLogout();
  // A new language starts the console over: every section then writes its text in it.
  bindLanguageMenu(() => location.reload());
  bindUsers();
  bindGuardians();
  bindStudentSubjects();
  bindTeacherSubjects();
  bindImport();
  bindGuardianImport();
  bindOneRoster();
  bindOneRosterExport();
  bindSubjects();
  bindSubjectImport();
  bindMeetingImport();
  bindFaces();
  bindClassPhoto();
  bindCalendar();
  bindAlertRules();
  bindOrganisation();
  bindAbsenceCategories();
  bindWebhooks();
  bindUnstaffed();
  bindOutbox();
  bindAudit();
  window.addEventListener('hashchange', () => showTab(true));
  showTab(false);
  // The badge on the proposals tab says at once whether anything waits.
  if (currentTab() !== 'proposals') void loadProposals().catch((err: unknown) => console.warn('face proposals unavailable', err));
  // So do the tab's badge and a line above every section when sessions are left without a teacher.
  if (currentTab() !== 'unstaffed') void loadUnstaffedCount().catch((err: unknown) => console.warn('unstaffed sessions unavailable', err));
}

void main();
