/**
 * Opening a session whose checks the subject cannot run yet: the location check on a subject
 * without a classroom location (a subject imported from CSV has none, and the organisation's
 * default preset asks for it) is refused SUBJECT_LOCATION_MISSING, the network check without
 * networks SUBJECT_NETWORK_MISSING. The teacher stands in that classroom and may set both
 * (docs/authorization.md), so rather than a dead end in front of the class the console offers to
 * take them from this device, then opens the session again. The network only when the address
 * this device is seen from can be the class's (src/shared/address-scope.ts), and only once the
 * teacher confirms the students are on this device's Wi-Fi; otherwise it offers to open without
 * the network check.
 */
import { apiJson } from './auth.js';
import { announce, byId, errorText, show } from './dom.js';
import { formatNumber } from './i18n.js';
import { tt } from './teacher-text.js';
import { isDeviceOnlyRange } from '../../shared/address-scope.js';
import type { ErrorCode } from '../../shared/errors.js';

/** The radius of a location taken here: the admin console's and the meeting form's default. */
export const ROOM_RADIUS_M = 100;
/** A fix vaguer than half the radius could put the centre outside the room, so it is not saved. */
const COARSEST_FIX_M = ROOM_RADIUS_M / 2;

type Fix = 'location' | 'network';

const jsonPut = (body: unknown): RequestInit => ({
  method: 'PUT',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

function position(): Promise<GeolocationPosition> {
  return new Promise((resolve, reject) =>
    navigator.geolocation.getCurrentPosition(resolve, reject, { enableHighAccuracy: true, timeout: 20_000, maximumAge: 0 }),
  );
}

function fixOf(err: unknown): Fix | null {
  const code = err instanceof Error && 'code' in err ? err.code : null;
  if (code === ('SUBJECT_LOCATION_MISSING' satisfies ErrorCode)) return 'location';
  if (code === ('SUBJECT_NETWORK_MISSING' satisfies ErrorCode)) return 'network';
  return null;
}

/** Takes the classroom location from this device; false (said on the page) when it cannot. */
async function saveLocation(subjectId: string, status: HTMLElement): Promise<boolean> {
  if (!window.isSecureContext || !('geolocation' in navigator)) {
    status.textContent = tt('room.noHttps');
    return false;
  }
  status.textContent = tt('room.reading');
  let pos: GeolocationPosition;
  try {
    pos = await position();
  } catch (err) {
    const denied = err instanceof GeolocationPositionError && err.code === err.PERMISSION_DENIED;
    status.textContent = denied ? tt('room.denied') : tt('room.unreadable', { reason: (err as Error).message });
    return false;
  }
  const accuracy = formatNumber(Math.round(pos.coords.accuracy));
  if (pos.coords.accuracy > COARSEST_FIX_M) {
    status.textContent = tt('room.coarse', { accuracy });
    return false;
  }
  const body = { lat: Number(pos.coords.latitude.toFixed(6)), lon: Number(pos.coords.longitude.toFixed(6)), radiusM: ROOM_RADIUS_M };
  await apiJson(`api/v1/subjects/${encodeURIComponent(subjectId)}/location`, jsonPut(body));
  announce(status, tt('room.locationSaved', { radius: formatNumber(ROOM_RADIUS_M), accuracy }));
  return true;
}

/** Allows `range`, the network the teacher confirmed the students share with this device. */
async function saveNetwork(subjectId: string, range: string, status: HTMLElement): Promise<boolean> {
  await apiJson(`api/v1/subjects/${encodeURIComponent(subjectId)}/network`, jsonPut({ allowedIpRanges: [range] }));
  announce(status, tt('room.networkSaved', { range }));
  return true;
}

/** Shows the offer's button: `act` runs on a tap, and the session opens again when it says so. */
function arm(label: string, act: () => Promise<boolean>, reopen: () => void): void {
  const button = byId<HTMLButtonElement>('open-fix-button');
  const status = byId('open-fix-status');
  button.textContent = label;
  button.disabled = false;
  button.onclick = () => {
    button.disabled = true;
    act()
      .then((done) => {
        if (!done) return;
        show(byId('open-fix'), false);
        byId('open-error').textContent = '';
        reopen();
      })
      .catch((e: unknown) => (status.textContent = errorText(e)))
      .finally(() => (button.disabled = false));
  };
  show(byId('open-fix'), true);
}

/**
 * The network offer, once the address this device is seen from is known: saving it only when it
 * can be the class's and the teacher confirms the class shares it, else opening without the check.
 */
async function offerNetwork(subjectId: string, reopen: () => void, withoutNetwork: () => void): Promise<void> {
  const status = byId('open-fix-status');
  const { ip, range } = await apiJson<{ ip: string | null; range: string | null }>('api/v1/me/network');
  const dropCheck = () => {
    withoutNetwork();
    return Promise.resolve(true);
  };
  if (!range || !ip) {
    status.textContent = tt('room.noAddress');
    arm(tt('room.withoutNetwork'), dropCheck, reopen);
  } else if (isDeviceOnlyRange(range)) {
    status.textContent = tt('room.deviceAddress', { ip });
    arm(tt('room.withoutNetwork'), dropCheck, reopen);
  } else {
    status.textContent = tt('room.sameWifi', { range });
    arm(tt('room.allowNetwork', { range }), () => saveNetwork(subjectId, range, status), reopen);
  }
}

/** Hides the offer: a new attempt to open starts without it. */
export function clearRoomFix(): void {
  show(byId('open-fix'), false);
  byId('open-fix-status').textContent = '';
}

/**
 * After a refused open: when the refusal is a missing classroom location or network, offers to
 * set it for `subjectId` from this device, then calls `reopen` (or, for a network this device
 * cannot stand for, `withoutNetwork`, which opens without the network check). True when offered.
 */
export function offerRoomFix(err: unknown, subjectId: string, reopen: () => void, withoutNetwork: () => void): boolean {
  const fix = fixOf(err);
  if (!fix) return false;
  if (fix === 'location') {
    arm(tt('room.useHere'), () => saveLocation(subjectId, byId('open-fix-status')), reopen);
    return true;
  }
  offerNetwork(subjectId, reopen, withoutNetwork).catch((e: unknown) => (byId('open-fix-status').textContent = errorText(e)));
  return true;
}
