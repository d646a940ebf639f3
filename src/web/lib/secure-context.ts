/**
 * Browsers give a page the location and the camera only in a secure context: an https:// page
 * (or localhost). Opened over plain http:// from a phone, `navigator.geolocation` is missing or
 * refuses and check-in cannot happen, so the pages say why and what to do instead of failing
 * silently.
 */
import { t } from './pages-text.js';

export interface PageContext {
  isSecureContext: boolean;
  href: string;
  hasGeolocation: boolean;
  hasCamera: boolean;
}

export function currentContext(): PageContext {
  return {
    isSecureContext: window.isSecureContext,
    href: location.href,
    hasGeolocation: 'geolocation' in navigator,
    hasCamera: Boolean(navigator.mediaDevices?.getUserMedia),
  };
}

/** The same page over https:// (same host and port: the service or its proxy serves both). */
export function secureAddress(href: string): string {
  const url = new URL(href);
  url.protocol = 'https:';
  return url.href;
}

/** Why this page cannot share a location (and so cannot check in); null when it can. */
export function locationProblem(ctx: PageContext): string | null {
  if (!ctx.isSecureContext) {
    return t('context.insecure', { address: secureAddress(ctx.href) });
  }
  if (!ctx.hasGeolocation) return t('context.noGeolocation');
  return null;
}

/** Why the camera (for a selfie) is unavailable; null when it is available. */
export function cameraProblem(ctx: PageContext): string | null {
  if (!ctx.isSecureContext) return t('context.cameraInsecure', { address: secureAddress(ctx.href) });
  if (!ctx.hasCamera) return t('context.noCamera');
  return null;
}

/**
 * The teacher's warning, as the secure address to suggest: students open the join link and QR
 * code on this same address, so a plain http:// console means their phones will not share a
 * location. Null on https://. The console words it (its own catalog).
 */
export function joinLinkProblem(ctx: PageContext): string | null {
  return new URL(ctx.href).protocol === 'https:' ? null : secureAddress(ctx.href);
}

/** Shows `text` in `el` (an alert region), or hides it when there is nothing to say. */
export function showProblem(el: HTMLElement, text: string | null): void {
  el.textContent = text ?? '';
  el.hidden = text === null;
}
