/**
 * Each reason code (src/shared/reasons.ts) in French: the pages' reason sentences (`reason.<CODE>`)
 * and an export's reason and flags asked for with `lang=fr`. Kept apart from reasons.ts so an
 * English page does not download it. Written by a non-native maintainer; to be reviewed by a native speaker.
 */
import type { ReasonCode } from '../reasons.js';

export const reasonsFr: Readonly<Record<ReasonCode, string>> = {
  GEOFENCE_OK: 'Dans la zone de la salle.',
  GEOFENCE_OUTSIDE: 'La position est hors de la zone de la salle.',
  GEOFENCE_IMPRECISE: 'La position est trop imprécise pour décider ; l’enseignant·e vérifie.',
  LOCATION_STALE: 'La position est trop ancienne.',
  NETWORK_OK: 'L’appareil est sur un réseau autorisé.',
  NETWORK_NOT_ALLOWED: 'L’appareil n’est pas sur un réseau autorisé.',
  CODE_OK: 'Le code de la séance est correct.',
  CODE_MISSING: 'Le code de la séance est requis.',
  CODE_INVALID: 'Le code de la séance est faux ou expiré.',
  LATE: 'Pointé après l’heure limite de retard.',
  SHARED_DEVICE: 'Un·e autre élève a pointé depuis le même appareil pendant cette séance.',
  LOCATION_DUPLICATE: 'La position est identique, au mètre près, à celle d’un·e autre élève.',
  LOCATION_JUMP: 'La position a fait un saut impossible depuis la tentative précédente.',
  LOCATION_MOCK_SUSPECTED: 'La précision indiquée est typique d’une application qui falsifie la position.',
  SELFIE_REQUIRED: 'Un selfie est requis.',
  SELFIE_PENDING: 'Le selfie est en cours de vérification.',
  FACE_CHECK_FAILED:
    'Le selfie n’a pas pu être vérifié (le moteur de reconnaissance a échoué ou a été trop lent) ; l’enseignant·e vérifie.',
  FACE_MATCH: 'Le selfie correspond au visage enregistré.',
  FACE_UNCERTAIN: 'La correspondance du selfie est incertaine ; l’enseignant·e vérifie.',
  FACE_MISMATCH: 'Le selfie ne correspond pas au visage enregistré.',
  FACE_NOT_ENROLLED: 'Aucun visage enregistré ; l’enseignant·e vérifie.',
  FACE_REENROL_NEEDED: 'Le visage enregistré a été fait avec un ancien modèle et doit être enregistré de nouveau ; l’enseignant·e vérifie.',
  FACE_NO_CONSENT: 'Aucun consentement enregistré à la vérification du visage ; le selfie n’a pas été utilisé et l’enseignant·e vérifie.',
  FACE_NOT_FOUND: 'Aucun visage n’a été trouvé sur le selfie.',
  FACE_MULTIPLE: 'Un autre visage presque aussi grand que le principal est sur le selfie.',
  FACE_TOO_SMALL: 'Le visage est trop petit sur le selfie.',
  FACE_LOW_QUALITY: 'Le selfie est trop flou ou trop sombre.',
  IMAGE_INVALID: 'L’image n’a pas pu être lue.',
  IMAGE_TOO_LARGE: 'Le fichier image est trop volumineux.',
  IMAGE_TOO_MANY_PIXELS: 'L’image a trop de pixels.',
  IMAGE_UNSUPPORTED_TYPE: 'Seules les images JPEG, PNG et WebP sont acceptées.',
  ENROLMENT_INCONSISTENT: 'Cette photo de référence ne semble pas montrer la même personne que les autres.',
  POSSIBLE_PROXY: 'Le selfie ressemble à un·e autre élève.',
  SPOOF_SUSPECTED: 'Le selfie est peut-être la photo d’une photo ou d’un écran.',
  LIVENESS_OK: 'Le défi de présence a été réalisé par le même visage.',
  LIVENESS_FAILED:
    'Le défi de présence n’a pas été réalisé (photo fixe ou rediffusion, autre visage, ou aucun mouvement) ; l’enseignant·e vérifie.',
  ACCEPTED_BY_TEACHER: 'Accepté par l’enseignant·e.',
  REJECTED_BY_TEACHER: 'Refusé par l’enseignant·e.',
  MARKED_BY_TEACHER: 'Noté par l’enseignant·e.',
  CORRECTED_BY_TEACHER: 'Corrigé par l’enseignant·e après la clôture.',
  MARKED_FROM_CLASS_PHOTO: 'Noté présent·e par l’enseignant·e d’après une photo de classe.',
  NO_CHECKIN: 'Aucun pointage avant la clôture de la séance.',
  EXCUSED: 'Une justification acceptée couvre cette séance.',
  PENDING_AT_CLOSE: 'Toujours en attente à la clôture de la séance.',
  UNRESOLVED_AT_CLOSE: 'Non résolu à la clôture de la séance ; l’enseignant·e peut corriger.',
};
