// The client's address, decided in one place for every service and the gateway. The
// socket's peer is the client unless it is a trusted proxy (TRUSTED_PROXIES: CIDRs); only
// then does X-Forwarded-For count, read from the right and skipping further trusted hops.
// Every address is validated (an entry that is not an IP stops the walk, so header text
// never becomes "the client") and normalised; clientIpKey hashes it before it is used in
// a Redis key name.
import { BlockList, isIP } from 'node:net';
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** At most this many X-Forwarded-For entries are looked at (a longer chain is cut from the left). */
const MAX_HOPS = 16;

export class TrustedProxies {
  private readonly list = new BlockList();

  private constructor(readonly cidrs: readonly string[]) {
    for (const c of cidrs) {
      const [addr, bits] = c.split('/') as [string, string | undefined];
      const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.list.addAddress(addr, family);
      else this.list.addSubnet(addr, Number(bits), family);
    }
  }

  /** No proxy trusted: the socket's peer is always the client. */
  static readonly none = new TrustedProxies([]);

  /** Loopback only (a gateway on the same machine). */
  static readonly loopback = new TrustedProxies(['127.0.0.0/8', '::1/128']);

  /** `10.0.0.0/8, 192.168.1.7, fd00::/8` → the list; throws naming each bad entry. */
  static parse(text: string): TrustedProxies {
    const entries = text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = entries.filter((e) => !isCidr(e));
    if (bad.length) throw new Error(`not an IP address or CIDR: ${bad.map((b) => JSON.stringify(b.slice(0, 60))).join(', ')}`);
    return new TrustedProxies(entries);
  }

  trusts(ip: string): boolean {
    const n = normaliseIp(ip);
    if (!n) return false;
    return this.list.check(n, isIP(n) === 6 ? 'ipv6' : 'ipv4');
  }
}

export function isCidr(entry: string): boolean {
  const [addr, bits, extra] = entry.split('/');
  if (extra !== undefined || !addr) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  if (bits === undefined) return true;
  if (!/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}

/** A valid IPv4 or IPv6 address in canonical form (IPv4-mapped IPv6 as IPv4), or undefined. */
export function normaliseIp(raw: string | undefined): string | undefined {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 64) return undefined;
  let s = raw.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const family = isIP(s);
  if (family === 4) return s;
  if (family !== 6 || s.includes('%')) return undefined;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(s);
  if (mapped && isIP(mapped[1]!) === 4) return mapped[1];
  try {
    return new URL(`http://[${s}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}

/**
 * The client's address: the socket's peer, or — when that peer is a trusted proxy — the
 * rightmost X-Forwarded-For entry that is not itself a trusted proxy. An entry that is not
 * a valid IP ends the walk at the hop that sent it. 'unknown' when the socket has no address.
 */
export function clientIp(req: Pick<IncomingMessage, 'headers' | 'socket'>, trusted: TrustedProxies): string {
  let current = normaliseIp(req.socket.remoteAddress);
  if (!current) return 'unknown';
  if (!trusted.trusts(current)) return current;
  const header = req.headers['x-forwarded-for'];
  const raw = (Array.isArray(header) ? header.join(',') : (header ?? '')).slice(0, 4096);
  const hops = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .slice(-MAX_HOPS);
  for (let i = hops.length - 1; i >= 0; i--) {
    const ip = normaliseIp(hops[i]);
    if (!ip) return current;
    current = ip;
    if (!trusted.trusts(ip)) return ip;
  }
  return current;
}

/** A client address as it may appear in a Redis key name: hashed, fixed length. */
export function clientIpKey(ip: string): string {
  return createHash('sha256')
    .update(normaliseIp(ip) ?? 'unknown')
    .digest('base64url')
    .slice(0, 22);
}

/**
 * Express middleware: `req.ip` becomes clientIp(req, trusted) for the rest of the
 * request, so code reading req.ip gets a validated, normalised address (never header text).
 */
export function clientIpMiddleware(trusted: TrustedProxies) {
  return (req: IncomingMessage, _res: unknown, next: () => void): void => {
    Object.defineProperty(req, 'ip', { value: clientIp(req, trusted), configurable: true, enumerable: true });
    next();
  };
}

/** The old `trust proxy` values (TRUST_PROXY, createHttpApp's trustProxy) as a TrustedProxies list. */
export function trustedProxiesFromLegacy(v: string | boolean | number | undefined): TrustedProxies {
  if (v === undefined || v === false || typeof v === 'number') return TrustedProxies.none;
  if (v === true) return TrustedProxies.parse('0.0.0.0/0,::/0');
  const named: Record<string, string> = {
    loopback: '127.0.0.0/8,::1/128',
    linklocal: '169.254.0.0/16,fe80::/10',
    uniquelocal: '10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7',
  };
  return TrustedProxies.parse(
    v
      .split(',')
      .map((s) => named[s.trim()] ?? s.trim())
      .join(','),
  );
}
