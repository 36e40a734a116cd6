// Small helpers for the events auth publishes: who acted, and the client IP in events.
import type { Actor } from '@praxis/contracts';

export const userActor = (userId: string): Actor => ({ kind: 'user', id: userId });
export const systemActor: Actor = { kind: 'system', id: 'auth' };

/** The client IP as an event field (bounded; IPv4-mapped IPv6 shortened). */
export function eventIp(ip: string | undefined): { ip?: string } {
  if (!ip) return {};
  return { ip: ip.replace(/^::ffff:/, '').slice(0, 64) };
}
