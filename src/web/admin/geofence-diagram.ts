/**
 * A small drawing of the classroom circle (no map tiles): the radius to scale with a scale bar,
 * and the uncertainty of the device position it was taken from as a dashed circle.
 */
import { at } from '../lib/admin-text.js';
import { formatNumber } from '../lib/i18n.js';

const SVG = 'http://www.w3.org/2000/svg';
const SIZE = 220;
const CENTRE = SIZE / 2;
/** The larger of the two circles is drawn with this radius in SVG units. */
const DRAWN = 80;

function el(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text) node.textContent = text;
  return node;
}

export function drawGeofence(svg: SVGSVGElement, radiusM: number | null, accuracyM: number | null): void {
  const desc = el('desc', { id: 'geofence-desc' });
  if (!radiusM || radiusM <= 0) {
    desc.textContent = at('geofence.none');
    svg.replaceChildren(desc, el('text', { x: CENTRE, y: CENTRE, 'text-anchor': 'middle', class: 'geo-note' }, at('geofence.noneShort')));
    return;
  }
  const largest = Math.max(radiusM, accuracyM ?? 0);
  const scale = DRAWN / largest;
  const radius = formatNumber(Math.round(radiusM));
  desc.textContent =
    accuracyM !== null
      ? at('geofence.descAccuracy', { radius, accuracy: formatNumber(Math.round(accuracyM)) })
      : at('geofence.desc', { radius });
  const parts: SVGElement[] = [
    desc,
    el('circle', { cx: CENTRE, cy: CENTRE, r: radiusM * scale, class: 'geo-fence' }),
    el('circle', { cx: CENTRE, cy: CENTRE, r: 3, class: 'geo-centre' }),
  ];
  if (accuracyM !== null) parts.push(el('circle', { cx: CENTRE, cy: CENTRE, r: Math.max(2, accuracyM * scale), class: 'geo-accuracy' }));
  // Scale bar for the radius, under the circle.
  const bar = radiusM * scale;
  parts.push(
    el('line', { x1: CENTRE, y1: CENTRE, x2: CENTRE + bar, y2: CENTRE, class: 'geo-radius' }),
    el('text', { x: CENTRE + bar / 2, y: CENTRE - 6, 'text-anchor': 'middle', class: 'geo-label' }, at('geofence.metres', { radius })),
    el('text', { x: CENTRE, y: 14, 'text-anchor': 'middle', class: 'geo-label' }, at('geofence.north')),
  );
  if (accuracyM !== null)
    parts.push(
      el(
        'text',
        { x: CENTRE, y: SIZE - 6, 'text-anchor': 'middle', class: 'geo-label' },
        at('geofence.position', { accuracy: formatNumber(Math.round(accuracyM)) }),
      ),
    );
  svg.replaceChildren(...parts);
}
