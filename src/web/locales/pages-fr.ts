/**
 * What the signed-in pages say alike, in French (dist/public/locale-pages-fr.js), fetched only by
 * a French reader of those pages. Typed against the English source.
 * Written by a non-native maintainer; to be reviewed by a native speaker (docs/languages.md).
 */
import type { CatalogOf } from '../../shared/i18n/messages.js';
import type { pagesEn } from './pages-en.js';
import type { ReasonCode } from '../../shared/reasons.js';
import { reasonsFr } from '../../shared/i18n/reasons-fr.js';

const reasonLabels = Object.fromEntries(Object.entries(reasonsFr).map(([code, words]) => [`reason.${code}`, words])) as {
  readonly [C in ReasonCode as `reason.${C}`]: string;
};

const catalog: CatalogOf<typeof pagesEn> = {
  'connection.connecting': 'Connexion…',
  'connection.online': 'En direct',
  'connection.offline': 'Connexion perdue, reconnexion…',
  'connection.busy': 'Serveur occupé, reconnexion sous peu…',
  'connection.logged-out': 'Déconnecté·e',
  'login.heading': 'Connexion',
  'login.email': 'E-mail',
  'login.password': 'Mot de passe',
  'login.organisation': 'Établissement',
  'login.onlyIfAsked': '(seulement si demandé)',
  'login.submit': 'Se connecter',
  'login.forgot': 'Mot de passe oublié ?',
  'login.busy': 'Beaucoup d’élèves se connectent en même temps ; nouvel essai dans {seconds} s…',
  'login.wrongRole': 'Cette page est réservée aux comptes {roles}.',
  'login.signedInAs': 'Connecté·e en tant que',
  'login.logout': 'Se déconnecter',
  'language.label': 'Langue',
  'language.school': 'Comme l’établissement',
  'session.scheduled': 'prévue',
  'session.open': 'ouverte',
  'session.closing': 'en clôture',
  'session.closed': 'close',
  'session.cancelled': 'annulée',
  'context.insecure':
    'Le pointage ne peut pas fonctionner sur cette page : elle a été ouverte avec une adresse qui commence par http:// au lieu de https://, et les téléphones ne partagent leur position et leur caméra qu’avec les pages sécurisées (https://). Ouvrez plutôt {address}, ou demandez l’adresse sécurisée à votre enseignant·e ou au service informatique de l’établissement.',
  'context.noGeolocation':
    'Ce navigateur ne peut pas partager de position : le pointage ne peut pas fonctionner ici. Ouvrez cette page dans un navigateur récent (Safari, Chrome, Firefox ou Edge).',
  'context.cameraInsecure': 'La caméra ne fonctionne que sur les pages sécurisées (https://). Ouvrez plutôt {address}.',
  'context.noCamera':
    'Ce navigateur ne peut pas utiliser la caméra. Ouvrez cette page dans un navigateur récent (Safari, Chrome, Firefox ou Edge).',
  'record.present': 'Présent·e',
  'record.late': 'En retard',
  'record.pending': 'En attente de vérification',
  'record.rejected': 'Refusé',
  'record.excused': 'Excusé·e',
  'record.absent': 'Absent·e',
  'chart.noData': 'aucune séance réglée',
  'chart.percent': '{value} %',
  'chart.empty': '{title} : aucune donnée.',
  'chart.summary': '{title} : {points} points, de {first} ({firstValue}) à {last} ({lastValue}) ; minimum {lowest} %, maximum {highest} %',
  'chart.gaps': { one: ' ; # sans séance réglée.', other: ' ; # sans séance réglée.' },
  'chart.end': '.',
  'chart.dataTable': 'Tableau des données : {title}',
  'chart.point': '{label} : {value} %',
  'chart.sparkline': '{title} : {points}.',
  'chart.sparkPoint': '{label} {value}',
  'excuse.title': 'Justifier une absence',
  'excuse.from': 'Du',
  'excuse.to': 'Au',
  'excuse.subject': 'Matière',
  'excuse.allSubjects': 'Toutes mes matières (un·e administrateur·rice décide)',
  'excuse.reason': 'Motif',
  'excuse.explanation': 'Explication',
  'excuse.document': 'Justificatif (PDF, JPEG ou PNG, 5 Mo au plus ; facultatif)',
  'excuse.send': 'Envoyer la justification',
  'excuse.mine': 'Mes justifications',
  'excuse.period': 'du {from} au {to}',
  'excuse.pending': 'en attente',
  'excuse.approved': 'acceptée',
  'excuse.declined': 'refusée',
  'excuse.alreadyPending':
    'Vous aviez déjà une justification en attente pour ces jours : elle porte maintenant le motif et l’explication que vous venez d’envoyer. Le document choisi y est joint.',
  ...reasonLabels,
};

export default catalog;
