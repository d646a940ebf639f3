/**
 * French pages, built as their own file (dist/public/locale-fr.js) and fetched only by a reader
 * whose language is French. Typed against the English source: a missing key fails the build.
 * Written by a non-native maintainer; to be reviewed by a native speaker (docs/languages.md).
 */
import type { CatalogOf } from '../../shared/i18n/messages.js';
import type { pageEn } from './en.js';

const catalog: CatalogOf<typeof pageEn> = {
  'page.skip': 'Aller au contenu',
  'page.somethingWrong': 'Une erreur est survenue.',

  'reset.title': 'Choisir un mot de passe · Présence en classe',
  'reset.heading': 'Choisir un nouveau mot de passe',
  'reset.welcome': 'Bienvenue : choisissez votre mot de passe',
  'reset.headingChange': 'Choisissez un nouveau mot de passe pour continuer',
  'reset.adminAsks': 'Votre administrateur·rice vous demande de choisir un nouveau mot de passe avant de continuer.',
  'reset.current': 'Mot de passe actuel',
  'reset.new': 'Nouveau mot de passe',
  'reset.atLeast8': '(8 caractères au moins)',
  'reset.repeat': 'Répétez-le',
  'reset.change': 'Changer le mot de passe',
  'reset.set': 'Enregistrer le mot de passe',
  'reset.done': 'Votre mot de passe est enregistré.',
  'reset.doneLogin': 'Connectez-vous',
  'reset.doneWith': 'avec celui-ci.',
  'reset.forgotIntro': 'Mot de passe oublié, ou votre lien ne fonctionne plus ? Demandez un nouveau lien.',
  'reset.email': 'E-mail',
  'reset.organisation': 'Établissement',
  'reset.optional': '(facultatif)',
  'reset.send': 'M’envoyer un lien',
  'reset.differ': 'Les deux mots de passe sont différents.',
  'reset.notSet': 'Le mot de passe n’a pas pu être enregistré.',
  'reset.enterEmail': 'Saisissez votre e-mail.',
  'reset.sent': 'Si un compte a cet e-mail, un lien est en route. Consultez votre boîte de réception.',
  'reset.failed': 'La demande a échoué ; réessayez.',
  'reset.unexpected': 'Le serveur a répondu de façon inattendue ; réessayez.',

  'error.INVALID_CREDENTIALS': 'E-mail ou mot de passe incorrect.',
  'error.ACCOUNT_DISABLED': 'Le compte est désactivé.',
  'error.ORGANISATION_REQUIRED': 'Cet e-mail existe dans plusieurs établissements ; indiquez l’établissement.',
  'error.ORGANISATION_DISABLED': 'L’établissement est désactivé.',
  'error.UNAUTHENTICATED': 'Veuillez vous connecter.',
  'error.TOKEN_REVOKED': 'Cette connexion a pris fin (déconnexion ou révocation) ; reconnectez-vous.',
  'error.FORBIDDEN': 'Vous n’avez pas le droit de faire ceci.',
  'error.RATE_LIMITED': 'Trop de demandes ; réessayez plus tard.',
  'error.BUSY': 'Le service est occupé ; réessayez plus tard.',
  'error.UNAVAILABLE': 'Le service est momentanément indisponible ; réessayez plus tard.',
  'error.INTERNAL': 'Erreur interne.',
  'error.VALIDATION_FAILED': 'La demande n’est pas valide.',
  'error.PAYLOAD_TOO_LARGE': 'Ce que vous avez envoyé est trop volumineux.',
  'error.CURRENT_PASSWORD_WRONG': 'Le mot de passe actuel est incorrect.',
  'error.LINK_INVALID': 'Ce lien n’est pas valide, a expiré ou a déjà servi ; demandez-en un nouveau.',
  'error.NOT_ENROLLED': 'Vous n’êtes pas inscrit·e dans cette matière.',
  'error.SESSION_NOT_FOUND': 'Cette séance n’existe pas.',
  'error.SESSION_NOT_OPEN': 'La séance n’est pas encore ouverte.',
  'error.SESSION_CLOSED': 'La séance est close.',
  'error.SESSION_NOT_JOINED': 'Rejoignez d’abord la séance.',
  'error.SESSION_CANCELLED': 'La séance a été annulée.',
  'error.OUTSIDE_WINDOW': 'Le pointage est en dehors des horaires de la séance.',
  'error.LOCATION_REQUIRED': 'Les vérifications de cette séance demandent votre position ; partagez-la et réessayez.',
  'error.LIVENESS_REQUIRED': 'Cette séance demande un bref mouvement de tête ou un clignement avec le selfie ; reprenez le selfie.',
  'error.LIVENESS_CHALLENGE_INVALID': 'Le défi a expiré ; reprenez le selfie.',
  'error.RETRY_LIMIT': 'Plus aucun essai de pointage pour cette séance.',
  'error.ALREADY_DECIDED': 'Le pointage a déjà été décidé.',
  'error.ABSENCE_CATEGORY_UNKNOWN': 'Ce motif ne fait pas partie de ceux de l’établissement.',
  'error.DOCUMENT_UNSUPPORTED_TYPE': 'Seuls les documents PDF, JPEG et PNG sont acceptés.',
};

export default catalog;
