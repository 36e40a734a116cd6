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
export { type SarFailureReason, sarFailureReasons } from './consent';

const allEvents = [...platformEvents, ...authEvents, ...recordsEvents, ...consentEvents, ...messagingEvents, ...auditEvents] as const;

type AnyDefinition = (typeof allEvents)[number];
export type EventType = AnyDefinition['type'];
export type EventData<T extends EventType> = z.infer<Extract<AnyDefinition, { type: T }>['data']>;
/** An event of type T with its validated data; for a union of types, a union discriminated by `type`. */
export type TypedEvent<T extends EventType> = T extends EventType ? Omit<EventEnvelope<EventData<T>>, 'type'> & { type: T } : never;
/**
 * What a consumer bound to routing-key patterns `B` receives: typed, discriminated by
 * `type`, when every binding is an exact event type; the generic envelope when any
 * binding is a wildcard (`records.#`).
 */
export type ReceivedEvent<B extends string> = [B] extends [EventType] ? TypedEvent<B> : EventEnvelope;

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
export function assertEventData<T extends EventType>(type: T, version: number, data: unknown): EventData<T> {
  const def = eventDefinition(type, version);
  if (!def) throw new Error(`unknown event type ${type}@${version}`);
  // The registry is keyed by type: the definition found is the one EventData<T> names.
  return def.data.parse(data) as EventData<T>;
}
