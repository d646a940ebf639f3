import ipaddr from 'ipaddr.js';
import type { OrganisationSettings } from '../ports/organisations.js';
import type { RetentionCounts } from '../ports/privacy.js';
import type { Store } from '../ports/store.js';
import type { GeoPoint } from '../ports/subjects.js';

export const RETENTION_JOB = 'retention';

const DAY_MS = 86_400_000;
/** Organisations read per page by a pass. */
const ORG_PAGE = 100;
/** What an address that does not parse becomes: nothing of it is kept. */
const UNKNOWN_NETWORK = '0.0.0.0/0';

/**
 * The network of an address in CIDR form, IPv4 /24 and IPv6 /48 (an IPv4-mapped IPv6 address
 * counts as IPv4). The '/' marks it as already cut for later passes.
 */
export function truncateIp(ip: string): string {
  if (!ipaddr.isValid(ip)) return UNKNOWN_NETWORK;
  let addr = ipaddr.parse(ip);
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) addr = (addr as ipaddr.IPv6).toIPv4Address();
  if (addr.kind() === 'ipv4') {
    const [a, b, c] = (addr as ipaddr.IPv4).octets;
    return `${new ipaddr.IPv4([a!, b!, c!, 0]).toString()}/24`;
  }
  const [p0, p1, p2] = (addr as ipaddr.IPv6).parts;
  return `${new ipaddr.IPv6([p0!, p1!, p2!, 0, 0, 0, 0, 0]).toString()}/48`;
}

export interface RetentionRunCounts extends RetentionCounts {
  organisations: number;
}

/**
 * The check-in's coordinates as a record keeps them: none when the organisation (its settings,
 * null when it is gone) never stores them; the distance and the result are worked out before
 * and kept.
 */
export function storedLocation<L extends GeoPoint>(settings: Pick<OrganisationSettings, 'retention'> | null, location: L | null): L | null {
  if (!location) return null;
  return settings?.retention.locationMode === 'never' ? null : location;
}

/**
 * One retention pass over every organisation, with its own settings (days counted from the
 * session's close): selfie embeddings deleted, coordinates cleared (at once in `never` mode),
 * addresses cut to their network (of records from the session's close, of audit entries from
 * their date). Each organisation where the pass changed anything gets one
 * audit entry `retention.apply` with the counts and the settings applied; a pass that changed
 * nothing leaves no entry (every pass is logged), so a node start does not write one per
 * organisation.
 */
export async function applyRetention(store: Store, now: Date): Promise<RetentionRunCounts> {
  const total: RetentionRunCounts = { organisations: 0, probes: 0, locations: 0, ips: 0, auditIps: 0 };
  const before = (days: number) => new Date(now.getTime() - days * DAY_MS);
  for (let offset = 0; ; offset += ORG_PAGE) {
    const page = await store.organisations.list({ limit: ORG_PAGE, offset });
    for (const org of page.items) {
      const r = org.settings.retention;
      const counts: RetentionCounts = {
        probes: await store.retention.clearProbes(org.id, before(r.probeDays)),
        locations: await store.retention.clearLocations(org.id, r.locationMode === 'never' ? now : before(r.locationDays)),
        ips: await store.retention.truncateIps(org.id, before(r.ipDays), truncateIp),
        auditIps: await store.retention.truncateAuditIps(org.id, before(r.ipDays), truncateIp),
      };
      total.organisations += 1;
      total.probes += counts.probes;
      total.locations += counts.locations;
      total.ips += counts.ips;
      total.auditIps += counts.auditIps;
      if (counts.probes + counts.locations + counts.ips + counts.auditIps === 0) continue;
      await store.audit.append({
        orgId: org.id,
        entityType: 'organisation',
        entityId: org.id,
        sessionId: null,
        actorId: null,
        action: 'retention.apply',
        from: null,
        to: { ...counts, settings: r },
        reason: null,
        ip: null,
        at: now,
      });
    }
    if (page.items.length < ORG_PAGE) return total;
  }
}
