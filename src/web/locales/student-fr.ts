/**
 * The student page's own words in French (dist/public/locale-student-fr.js), fetched only by a
 * French reader of that page. Typed against the English source.
 * Written by a non-native maintainer; to be reviewed by a native speaker (docs/languages.md).
 */
import type { CatalogOf } from '../../shared/i18n/messages.js';
import type { studentEn } from './student-en.js';

const catalog: CatalogOf<typeof studentEn> = {
  'student.title': 'Pointage · Présence en classe',
  'student.brand': 'Pointage',
  'student.openSessions': 'Séances ouvertes',
  'student.refresh': 'Actualiser la liste',
  'student.join': 'Rejoindre',
  'student.joinLabel': 'Rejoindre {subject}',
  'student.noSessions': 'Aucune séance ouverte pour vos matières en ce moment.',
  'student.listLine': '{status}, jusqu’à {time}. {needs}',
  'student.openUntil': 'Ouverte jusqu’à {closes} (en retard après {late}).',
  'student.closedAt': 'Close à {closed}.',
  'student.closingNow': 'Clôture en cours.',
  'student.sessionCancelled': 'La séance a été annulée.',
  'student.sessionClosed': 'La séance est close.',
  'student.needsNothing': 'Le pointage ne demande qu’un appui : ni position, ni code, ni selfie.',
  'student.needs': 'Le pointage demande {needs}.',
  'student.needs.geofence': 'votre position (dans la salle)',
  'student.needs.network': 'le réseau de l’établissement',
  'student.needs.code': 'le code affiché à l’écran',
  'student.needs.selfie': 'un selfie',
  'student.needs.liveness': 'un selfie et un bref mouvement de tête ou un clignement des yeux',
  'student.location': 'Position',
  'student.shareLocation': 'Partager ma position',
  'student.locationNotShared': 'Votre position n’a pas encore été partagée.',
  'student.findingLocation': 'Recherche de votre position…',
  'student.locationFound': 'Position trouvée, précise à environ {size}.',
  'student.locationCoarse':
    'Position trouvée, mais précise seulement à environ {size} : votre enseignant·e devra vérifier le pointage. Pour une meilleure précision, activez la position exacte (ou le Wi-Fi), approchez-vous d’une fenêtre, puis appuyez de nouveau sur Partager ma position.',
  'student.locationDenied':
    'La position est bloquée pour cette page : vous ne pouvez pas encore pointer. Autorisez-la : appuyez sur l’icône de cadenas ou de réglages à côté de l’adresse, réglez Position sur Autoriser (sur un téléphone, activez aussi la localisation dans ses réglages), puis appuyez de nouveau sur Partager ma position.',
  'student.locationUnavailable':
    'Votre téléphone n’a pas trouvé sa position. Activez la localisation (GPS) dans les réglages du téléphone, approchez-vous d’une fenêtre, puis appuyez de nouveau sur Partager ma position.',
  'student.locationTimeout':
    'La recherche de votre position a pris trop de temps. Approchez-vous d’une fenêtre ou sortez de la salle, puis appuyez de nouveau sur Partager ma position.',
  'student.codeLabel': 'Code affiché dans la salle',
  'student.codeFromLink': 'Le lien du QR code contient déjà le code pendant 5 minutes ; ne tapez le code de l’écran qu’après ce délai.',
  'student.selfie': 'Selfie',
  'student.cameraPreview': 'Aperçu de la caméra',
  'student.startCamera': 'Activer la caméra',
  'student.takeSelfie': 'Prendre le selfie',
  'student.cameraOn': 'Caméra activée. Prenez le selfie quand votre visage remplit le cadre.',
  'student.cameraUnavailable': 'Caméra indisponible : {reason}',
  'student.challengeNow': '{prompt} maintenant…',
  'student.selfieTaken': 'Selfie pris ({size} Ko).',
  'student.selfieTakenChallenge': 'Selfie pris ({size} Ko) avec le défi.',
  'student.takeSelfieFirst': 'Prenez d’abord un selfie.',
  'student.typeCodeFirst': 'Saisissez d’abord le code affiché sur l’écran de la salle.',
  'student.submit': 'Pointer',
  'student.offline': 'Vous êtes hors ligne : le pointage n’a pas été envoyé. Réessayez quand la connexion sera revenue.',
  'student.notCheckedIn': 'Pas encore pointé.',
  'student.checkingSelfie': 'Vérification de votre selfie…',
  'student.tryAgain': { one: 'Vous pouvez réessayer (# essai restant).', other: 'Vous pouvez réessayer (# essais restants).' },
  'student.noAttemptsLeft': 'Plus aucun essai ; parlez-en à votre enseignant·e.',
  'student.teacherNote': 'Note de l’enseignant·e : {note}',
  'student.rateLimited': 'Trop de tentatives de pointage en peu de temps. Attendez {seconds} s, puis appuyez de nouveau sur Pointer.',
  'decision.present': 'Vous êtes noté·e présent·e.',
  'decision.late': 'Vous êtes noté·e en retard.',
  'decision.pending': 'En attente de la vérification de votre pointage par l’enseignant·e.',
  'decision.rejected': 'Votre pointage a été refusé.',
  'decision.excused': 'Vous êtes excusé·e.',
  'decision.absent': 'Vous êtes noté·e absent·e.',
  'delivery.sending': 'Envoi de votre pointage…',
  'delivery.slow': 'Envoi en cours : la connexion est lente. Gardez cette page ouverte.',
  'delivery.reconnecting': 'Reconnexion… votre pointage part dès que la page est de nouveau en direct. Gardez cette page ouverte.',
  'delivery.checking': 'La connexion a coupé pendant l’envoi. Vérification de l’arrivée de votre pointage… Gardez cette page ouverte.',
  'delivery.notBack':
    'La connexion n’est pas revenue : votre pointage n’est peut-être pas arrivé. Quand le haut de la page indique En direct, appuyez de nouveau sur Pointer : vous ne serez pas pointé·e deux fois.',
  'delivery.notArrived':
    'Votre pointage n’est pas arrivé. Vérifiez la connexion, puis appuyez de nouveau sur Pointer : vous ne serez pas pointé·e deux fois.',
  'delivery.stillBusy':
    'Le serveur est toujours occupé et rien n’a été enregistré. Attendez une minute, puis appuyez de nouveau sur Pointer.',
  'delivery.busy': 'Le serveur est occupé ; rien n’est encore enregistré. Nouvel essai dans {seconds} s…',
  'my.title': 'Mes présences',
  'my.caption': 'Mes présences par matière, séances closes seulement',
  'my.subject': 'Matière',
  'my.attendance': 'Présence',
  'my.absent': 'Absences',
  'my.sessions': 'Séances',
  'my.none': 'Aucune présence comptée pour l’instant.',
  'my.chartTitle': 'Mes présences par matière',
  'my.chartValue': 'Présence %',
  'my.recent': 'Séances récentes',
  'my.noSessions': 'Aucune séance pour l’instant.',
  'my.cancelled': 'séance annulée : non comptée',
  'my.refresh': 'Actualiser mes présences',
  'my.percentage': '{value} %',
};

export default catalog;
