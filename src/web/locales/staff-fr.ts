/**
 * What the staff pages say alike, in French (statuses, counts, error codes), built as their own file
 * (dist/public/locale-staff-fr.js) and fetched only by a French reader of those pages. Typed
 * against the English source: a missing key fails the build.
 * Written by a non-native maintainer; to be reviewed by a native speaker (docs/languages.md).
 */
import type { CatalogOf } from '../../shared/i18n/messages.js';
import type { staffEn } from './staff-en.js';

const catalog: CatalogOf<typeof staffEn> = {
  'error.MALFORMED_JSON': 'La demande n’a pas pu être lue.',
  'error.UNSUPPORTED_MEDIA_TYPE': 'Ce type de fichier n’est pas accepté ici.',
  'error.NOT_FOUND': 'Introuvable : l’élément a peut-être été supprimé entre-temps.',
  'error.METHOD_NOT_ALLOWED': 'Cette action n’est pas possible ici.',
  'error.CONFLICT': 'Cette action entre en conflit avec l’état actuel ; rechargez la page puis réessayez.',
  'error.TOKEN_INVALID': 'Votre connexion n’est plus valable ; reconnectez-vous.',
  'error.TOKEN_EXPIRED': 'Votre connexion a expiré ; reconnectez-vous.',
  'error.REFRESH_TOKEN_INVALID': 'Votre connexion n’est plus valable ; reconnectez-vous.',
  'error.REFRESH_TOKEN_REUSED': 'Cette connexion a été utilisée ailleurs et a été fermée partout ; reconnectez-vous.',
  'error.PASSWORD_CHANGE_REQUIRED': 'Choisissez d’abord un nouveau mot de passe.',
  'error.UNSUBSCRIBE_LINK_INVALID': 'Ce lien de désabonnement n’est pas valable.',
  'error.EMAIL_TAKEN': 'Un compte avec cet e-mail existe déjà.',
  'error.ORGANISATION_SLUG_TAKEN': 'Un établissement avec ce nom court existe déjà.',
  'error.SUBJECT_CODE_TAKEN': 'Une matière avec ce code existe déjà.',
  'error.SUBJECT_ARCHIVED':
    'Cette matière est archivée : elle ne prend ni nouvelle séance, ni créneau, ni inscription. Désarchivez-la d’abord.',
  'error.SUBJECT_HAS_SESSIONS': 'Une séance de cette matière est ouverte ou programmée : fermez-la ou annulez-la avant d’archiver.',
  'error.NOT_SUBJECT_TEACHER': 'Vous n’enseignez pas cette matière.',
  'error.SESSION_NOT_CLOSED': 'La séance est encore ouverte.',
  'error.CLOSE_TIMED_OUT': 'La clôture de la séance a pris trop de temps ; clôturez-la de nouveau.',
  'error.SESSION_ALREADY_OPEN': 'Cette matière a déjà une séance à cette heure-là.',
  'error.TEACHER_DOUBLE_BOOKED': 'L’enseignant·e a déjà un cours d’une autre matière à cette heure-là.',
  'error.SESSION_TRANSITION_REFUSED': 'La séance ne peut pas faire ce changement dans son état actuel.',
  'error.REOPEN_WINDOW_PASSED': 'La séance est close depuis trop longtemps pour être rouverte ; corrigez plutôt ses fiches.',
  'error.POLICY_UNSUPPORTED': 'Ce service ne prend pas en charge ces contrôles.',
  'error.LIVENESS_NOT_REQUIRED': 'Cette séance ne demande pas de défi de présence.',
  'error.SUBJECT_LOCATION_MISSING':
    'Le contrôle de position a besoin de l’emplacement de la salle de la matière, qui n’est pas encore renseigné.',
  'error.SUBJECT_NETWORK_MISSING': 'Le contrôle du réseau a besoin des réseaux de la matière, qui ne sont pas encore renseignés.',
  'error.RECORD_NOT_FOUND': 'Fiche de présence introuvable.',
  'error.EXCUSE_NOT_FOUND': 'Justification introuvable.',
  'error.EXCUSE_DECIDED': 'La justification a déjà été acceptée ou refusée.',
  'error.RECORD_CHANGED': 'La fiche a changé entre-temps ; vérifiez-la puis réessayez.',
  'error.FACE_ENROLMENT_REFUSED': 'Certaines photos de référence ont été refusées ; rien n’a été enregistré.',
  'error.FACE_CONSENT_REQUIRED': 'Le contrôle du visage de cet·te élève demande d’abord un consentement enregistré.',
  'error.PHOTO_REFUSED': 'La photo a été refusée.',
  'status.present': 'Présent·e',
  'status.late': 'En retard',
  'status.pending': 'À vérifier',
  'status.rejected': 'Refusé',
  'status.excused': 'Excusé·e',
  'status.absent': 'Absent·e',
  'status.not-yet': 'Pas encore',
  'count.present': 'Présents',
  'count.late': 'En retard',
  'count.pending': 'À vérifier',
  'count.rejected': 'Refusés',
  'count.excused': 'Excusés',
  'count.absent': 'Absents',
  'count.notYet': 'Pas encore',
  'count.total': 'Total',
  'count.item': '{label} {count}',
  'count.line': '{items} · sur {total}',
  'staff.sessionName': '{code} · {name}',
};

export default catalog;
