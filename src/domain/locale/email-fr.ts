import type { CatalogOf } from '../../shared/i18n/messages.js';
import type { emailEn } from './email-en.js';

/**
 * French emails. Written by a non-native maintainer: to be reviewed by a native speaker
 * (docs/languages.md). "·e" is the inclusive ending where the reader's gender is unknown.
 */
export const emailFr: CatalogOf<typeof emailEn> = {
  hello: 'Bonjour {name},',
  fallbackOrganisation: 'votre établissement',

  'invitation.subject': '{organisation} : votre compte de suivi des présences',
  'invitation.body':
    'Un compte de suivi des présences a été créé pour vous par {organisation}. Ouvrez ce lien pour choisir votre mot de passe ; il n’est valable qu’une fois, jusqu’au {expires}.',
  'reset.subject': '{organisation} : réinitialisation de votre mot de passe',
  'reset.body':
    'Une réinitialisation du mot de passe de votre compte ({organisation}) a été demandée. Ouvrez ce lien pour en choisir un nouveau ; il n’est valable qu’une fois, jusqu’au {expires}. Si vous n’êtes pas à l’origine de cette demande, ignorez cet e-mail : votre mot de passe reste inchangé.',
  'reset.alsoAt':
    'Cette adresse a aussi un compte chez {organisations} : chaque compte reçoit son propre e-mail, et ce lien ne change que le mot de passe de votre compte chez {organisation}.',
  'admin-reset.body':
    'Un administrateur de {organisation} vous envoie ce lien pour choisir un nouveau mot de passe pour votre compte. Il n’est valable qu’une fois, jusqu’au {expires}. Tant que vous ne l’utilisez pas, votre mot de passe actuel reste valable ; si vous n’avez rien demandé, vous pouvez ignorer cet e-mail.',

  'alert.subject': { one: 'Alerte d’assiduité : # élève en {subjects}', other: 'Alerte d’assiduité : # élèves en {subjects}' },
  'alert.intro': 'Ces élèves de {organisation} ont déclenché une alerte d’assiduité :',
  'alert.consecutiveAbsences': {
    one: '{student} a manqué # séance en {subject}.',
    other: '{student} a manqué # séances consécutives en {subject}.',
  },
  'alert.lowAttendance': {
    one: 'L’assiduité de {student} en {subject} est de {observed} % sur le dernier jour (seuil d’alerte : {threshold} %).',
    other: 'L’assiduité de {student} en {subject} est de {observed} % sur les # derniers jours (seuil d’alerte : {threshold} %).',
  },
  'alert.repeatedLateness': {
    one: '{student} est arrivé·e en retard # fois en {subject} sur les {days} derniers jours.',
    other: '{student} est arrivé·e en retard # fois en {subject} sur les {days} derniers jours.',
  },
  'alert.footer': 'Vous recevez cet e-mail en tant que membre du personnel de {organisation}.',
  'alert.unsubscribe': 'Ne plus recevoir les alertes :',

  'student.subject': 'Alerte d’assiduité : {subjects}',
  'student.intro': 'Votre assiduité à {organisation} a déclenché une alerte :',
  'student.consecutiveAbsences': {
    one: 'Vous avez manqué # séance en {subject}.',
    other: 'Vous avez manqué # séances consécutives en {subject}.',
  },
  'student.lowAttendance': {
    one: 'Votre assiduité en {subject} est de {observed} % sur le dernier jour (seuil d’alerte : {threshold} %).',
    other: 'Votre assiduité en {subject} est de {observed} % sur les # derniers jours (seuil d’alerte : {threshold} %).',
  },
  'student.repeatedLateness': {
    one: 'Vous êtes arrivé·e en retard # fois en {subject} sur les {days} derniers jours.',
    other: 'Vous êtes arrivé·e en retard # fois en {subject} sur les {days} derniers jours.',
  },
  'student.footer':
    'Vous recevez cet e-mail en tant qu’élève de {organisation}. Vos enseignants peuvent vous aider à rattraper les cours manqués.',

  'guardian.subject': 'Alerte d’assiduité : {student}',
  'guardian.intro': '{organisation} vous informe que l’assiduité de {student} a déclenché une alerte :',
  'guardian.footer':
    'Vous recevez cet e-mail car {organisation} vous a enregistré·e comme responsable de {student}. Pour toute question, contactez l’établissement.',

  'digest.subject': 'Votre récapitulatif d’assiduité du {day}',
  'digest.sessions': { one: 'Votre séance du jour (#) :', other: 'Vos séances du jour (#) :' },
  'digest.noSessions': 'Aucune séance aujourd’hui.',
  'digest.session': '{time} {subject} ({status})',
  'digest.pending': 'Pointages en attente de votre vérification : {count}.',
  'digest.newAlerts': 'Nouvelles alertes depuis hier : {count}.',
  'digest.unsubscribe': 'Ne plus recevoir le récapitulatif :',

  'unstaffed.subject': {
    one: 'Une séance sans enseignant : {subjects}',
    other: '# séances sans enseignant : {subjects}',
  },
  'unstaffed.intro': {
    one: '{teacher} ne peut plus assurer cette séance de {organisation}, et aucun enseignant de la matière n’était libre pour la reprendre :',
    other:
      '{teacher} ne peut plus assurer ces séances de {organisation}, et aucun enseignant de leur matière n’était libre pour les reprendre :',
  },
  'unstaffed.session': '{subject}, {time}',
  'unstaffed.action': 'Confiez chacune à un enseignant ou annulez-la dans la console d’administration : {url}',
  'unstaffed.footer': 'Vous recevez cet e-mail en tant qu’administrateur·rice de {organisation}.',

  'status.scheduled': 'prévue',
  'status.open': 'ouverte',
  'status.closing': 'en clôture',
  'status.closed': 'close',
  'status.cancelled': 'annulée',
};
