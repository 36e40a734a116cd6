// The registry of every event type, and the parser consumers use.
import { z } from 'zod';
import { auditEvents } from './audit';
import { authEvents } from './auth';
import { consentEvents } from './consent';
import { type EventDefinition, type EventEnvelope, envelopeSchema } from './envelope';
import { messagingEvents } from './messaging';
import { platformEvents } from './platform';
import { recordsEvents } from './records';

export * from './envelope';
export { auditEvents, authEvents, consentEvents, messagingEvents, platformEvents, recordsEvents };

const allEvents = [...platformEvents, ...authEvents, ...recordsEvents, ...consentEvents, ...messagingEvents, ...auditEvents] as const;

type AnyDefinition = (typeof allEvents)[number];
export type EventType = AnyDefinition['type'];
export type EventData<T extends EventType> = z.infer<Extract<AnyDefinition, { type: T }>['data']>;

const registry = new Map<string, EventDefinition>();
for (const def of allEvents) {
  const key = `${def.type}@${def.version}`;
  if (registry.has(key)) throw new Error(`event ${key} is defined twice`);
  registry.set(key, def);
}

export function eventDefinition(type: string, version: number): EventDefinition | undefined {
  return registry.get(`${type}@${version}`);
}

export function eventDefinitions(): EventDefinition[] {
  return [...registry.values()];
}

export type EventParseResult = { ok: true; event: EventEnvelope } | { ok: false; reason: string };

/** Validate an envelope and its data against the registered schema for its type and version. */
export function parseEvent(raw: unknown): EventParseResult {
  const env = envelopeSchema.safeParse(raw);
  if (!env.success) return { ok: false, reason: `envelope: ${z.prettifyError(env.error)}` };
  const def = eventDefinition(env.data.type, env.data.version);
  if (!def) return { ok: false, reason: `unknown event type ${env.data.type}@${env.data.version}` };
  const data = def.data.safeParse(env.data.data);
  if (!data.success) return { ok: false, reason: `data of ${def.type}: ${z.prettifyError(data.error)}` };
  return { ok: true, event: { ...env.data, data: data.data as Record<string, unknown> } };
}

/** Validate only the data of an event about to be published; throws on a mismatch. */
export function assertEventData(type: string, version: number, data: unknown): Record<string, unknown> {
  const def = eventDefinition(type, version);
  if (!def) throw new Error(`unknown event type ${type}@${version}`);
  return def.data.parse(data) as Record<string, unknown>;
}
