/**
 * The users CSV import (chunked-import.ts: a dry run, then the good rows in chunks with a
 * progress bar), and the invitations of the users it made.
 */
import { announce, byId, errorText, show } from '../lib/dom.js';
import { at } from '../lib/admin-text.js';
import { formatNumber } from '../lib/i18n.js';
import { bindChunkedImport, chunkedImport } from './chunked-import.js';
import { invitedText, inviteMany } from './invitations.js';
import type { User } from './types.js';

/** Users imported and not invited yet: a second click (after a full outbox, or an error) invites only these. */
let imported: string[] = [];
/** How many the last import made (the button says when only some are left to invite). */
let importedCount = 0;

const usersImport = chunkedImport<{ created: number; users: User[] }>({
  prefix: 'import',
  path: 'api/v1/users/import',
  keyField: 'email',
  goAll: (count) => at('import.goAll', { count }),
  done: (made, count) => at('import.done', { imported: formatNumber(made), count }),
  checking: () => {
    imported = [];
    show(byId('import-invite'), false);
  },
  accept: (answer) => {
    imported.push(...answer.users.map((u) => u.id));
    return { imported: answer.users.length };
  },
  finished: () => {
    importedCount = imported.length;
    inviteLabel();
    show(byId('import-invite'), imported.length > 0);
  },
});

/**
 * Invites the imported users not invited yet: what a full outbox left stays for the next click,
 * and the words say so; invited users are never invited twice.
 */
async function inviteImported(): Promise<string> {
  const result = await inviteMany(imported);
  imported = result.left;
  return invitedText(result);
}

function inviteLabel(): void {
  byId('import-invite').textContent =
    imported.length > 0 && imported.length < importedCount ? at('import.inviteRest', { count: imported.length }) : at('import.inviteAll');
}

export function bindImport(): void {
  bindChunkedImport('import', usersImport);
  const error = byId('import-error');
  byId('import-invite').addEventListener('click', () => {
    const button = byId<HTMLButtonElement>('import-invite');
    button.disabled = true;
    inviteImported()
      .then((text) => {
        byId('import-progress-text').textContent = text;
        announce(byId('live'), text);
        inviteLabel();
        show(button, imported.length > 0);
      })
      .catch((err: unknown) => (error.textContent = errorText(err)))
      .finally(() => {
        button.disabled = false;
        inviteLabel();
      });
  });
}
