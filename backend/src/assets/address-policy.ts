import { BlockList, isIP } from 'node:net';

/**
 * Which addresses the asset proxy may connect to. The proxy fetches URLs that came from recorded
 * pages, i.e. from anyone who can load the tracker: without this, a recorded `<link href>` could make
 * the server read its own admin ports, cloud metadata (169.254.169.254) or the office network.
 * Everything that is not a globally routable unicast address is refused, unless the operator's
 * allow-list (`TANDEM_ASSET_PROXY_ALLOW`) names it.
 */

/** IPv4 ranges that are not the public internet (IANA special-purpose registry). */
const FORBIDDEN_V4: [string, number][] = [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata lives here)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved and broadcast
];

/** IPv6 ranges; IPv4-mapped (::ffff:0:0/96) addresses are checked as the IPv4 address they carry. */
const FORBIDDEN_V6: [string, number][] = [
  ['::', 96], // unspecified, loopback (::1) and the deprecated IPv4-compatible form
  ['64:ff9b::', 96], // NAT64: would reach any IPv4 address, private ones included
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments (Teredo, ORCHID, ...)
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: embeds an IPv4 address
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
];

const FORBIDDEN = new BlockList();
for (const [net, prefix] of FORBIDDEN_V4) FORBIDDEN.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of FORBIDDEN_V6) FORBIDDEN.addSubnet(net, prefix, 'ipv6');

/** The 8 hextets of an IPv6 address (with or without an embedded dotted IPv4 tail), or null. */
function hextets(ip: string): number[] | null {
  let text = ip;
  const dotted = text.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted) {
    const parts = dotted[2].split('.').map(Number);
    if (parts.some((p) => p > 255)) return null;
    text = `${dotted[1]}${((parts[0] << 8) | parts[1]).toString(16)}:${((parts[2] << 8) | parts[3]).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...head, ...Array(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  const out = all.map((h) => (/^[0-9a-f]{1,4}$/i.test(h) ? parseInt(h, 16) : NaN));
  return out.some(Number.isNaN) ? null : out;
}

/** `::ffff:a.b.c.d` (in any spelling) → `a.b.c.d`; anything else unchanged. */
export function unmapIpv4(ip: string): string {
  if (isIP(ip) !== 6) return ip;
  const h = hextets(ip.replace(/%.*$/, ''));
  if (!h || h.slice(0, 5).some((x) => x !== 0) || h[5] !== 0xffff) return ip;
  return `${h[6] >> 8}.${h[6] & 255}.${h[7] >> 8}.${h[7] & 255}`;
}

/** True for loopback, private, link-local, unique-local, multicast and other non-public addresses. */
export function isForbiddenAddress(address: string): boolean {
  const ip = unmapIpv4(address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  const family = isIP(ip);
  if (family === 0) return true; // not an address at all: never connect to it
  return FORBIDDEN.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/**
 * The operator's exceptions, from `TANDEM_ASSET_PROXY_ALLOW` (comma-separated):
 * - a CIDR or an address (`10.1.0.0/16`, `127.0.0.1`, `fd00::/8`): that address range may be reached;
 * - `host:port` or `host` (`assets.intranet:8080`, `[::1]:9000`): URLs naming that host (and port) may
 *   reach whatever it resolves to.
 */
export class AddressPolicy {
  private readonly allowedNets = new BlockList();
  private hasNets = false;
  private readonly allowedHosts = new Set<string>();

  constructor(allow: readonly string[] = []) {
    for (const raw of allow) this.add(raw.trim());
  }

  private add(entry: string): void {
    if (!entry) return;
    const cidr = entry.match(/^\[?([0-9a-fA-F:.]+)\]?(?:\/(\d{1,3}))?$/);
    const ip = cidr ? unmapIpv4(cidr[1]) : '';
    const family = cidr ? isIP(ip) : 0;
    if (cidr && family) {
      const max = family === 4 ? 32 : 128;
      const prefix = cidr[2] === undefined ? max : Number(cidr[2]);
      if (!(prefix >= 0 && prefix <= max)) throw new Error(`TANDEM_ASSET_PROXY_ALLOW: bad prefix in ${entry}`);
      this.allowedNets.addSubnet(ip, prefix, family === 4 ? 'ipv4' : 'ipv6');
      this.hasNets = true;
      return;
    }
    let url: URL;
    try {
      url = new URL(`http://${entry}`);
    } catch {
      throw new Error(`TANDEM_ASSET_PROXY_ALLOW: "${entry}" is neither a CIDR, an address nor host[:port]`);
    }
    if (url.pathname !== '/' || url.username || url.search) throw new Error(`TANDEM_ASSET_PROXY_ALLOW: "${entry}" must be host[:port]`);
    this.allowedHosts.add(url.port ? `${url.hostname}:${url.port}` : url.hostname);
  }

  /** The URL's host (with its port) is on the allow-list: any address it resolves to may be reached. */
  allowsHostOf(url: URL): boolean {
    if (!this.allowedHosts.size) return false;
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    return this.allowedHosts.has(url.hostname) || this.allowedHosts.has(`${url.hostname}:${port}`);
  }

  /** May a connection for `url` go to `address`? */
  allows(address: string, url: URL): boolean {
    if (this.allowsHostOf(url)) return true;
    if (!isForbiddenAddress(address)) return true;
    if (!this.hasNets) return false;
    const ip = unmapIpv4(address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
    const family = isIP(ip);
    return family !== 0 && this.allowedNets.check(ip, family === 4 ? 'ipv4' : 'ipv6');
  }
}
