/**
 * The classroom screen in French, built as its own file (dist/public/locale-classroom-fr.js) and
 * fetched only by a French reader of that page. Typed against the English source.
 * Written by a non-native maintainer; to be reviewed by a native speaker (docs/languages.md).
 */
import type { CatalogOf } from '../../shared/i18n/messages.js';
import type { classroomEn } from './classroom-en.js';

const catalog: CatalogOf<typeof classroomEn> = {
  'classroom.title': 'Écran de la salle · Présence en classe',
  'classroom.brand': 'Présence',
  'classroom.fullScreen': 'Plein écran',
  'classroom.leaveFullScreen': 'Quitter le plein écran',
  'classroom.pick': 'Choisissez la séance à afficher',
  'classroom.loading': 'Chargement…',
  'classroom.timeLeft': 'Temps restant',
  'classroom.howTo': 'Comment pointer',
  'classroom.code': 'Code',
  'classroom.qr': 'QR code du lien de pointage',
  'classroom.scan': 'Scannez le code QR, ou ouvrez',
  'classroom.thenCode': 'et saisissez le code',
  'classroom.counts': 'Décomptes',
  'classroom.roster': 'Liste de la classe',
  'classroom.checkedIn': 'Pointés',
  'classroom.times': 'En retard après {late} · clôture {closes}',
  'classroom.closing': 'Clôture…',
  'classroom.closed': 'Séance close',
  'classroom.cancelled': 'Séance annulée',
  'classroom.sessionItem': '{session} ({time})',
  'classroom.noSessions': 'Aucune séance ouverte. Ouvrez-en une dans la console enseignant.',
  'classroom.more': { one: '# élève de plus : {counts}', other: '# élèves de plus : {counts}' },
  'classroom.countsText': '{present} présents, {late} en retard sur {total}.',
  'classroom.sessionNow': 'La séance est {status}.',
  'classroom.statusOf': '{name} : {status}',
};

export default catalog;
