// The one envelope every event travels in (docs/platform.md), and the registry that
// maps each event type to its versioned data schema.
import { z } from 'zod';

export const EVENTS_EXCHANGE = 'praxis.events';

/** `<service>.<entity>.<verb>`, lowercase, verb in the past tense. */
export const eventTypePattern = /^[a-z]+\.[a-z][a-z-]*\.[a-z][a-z-]*$/;

const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'a UUID');

export const actorSchema = z.strictObject({
  kind: z.enum(['user', 'support', 'service', 'patient', 'system']),
  id: z.string().min(1).max(200),
  /** Support mode: the tenant user on whose behalf (or into whose practice) support acted. */
  onBehalfOf: z.string().min(1).max(200).optional(),
});
export type Actor = z.infer<typeof actorSchema>;

export const subjectSchema = z.strictObject({ patientId: z.string().min(1).max(200).optional() });

export const envelopeSchema = z.strictObject({
  id: uuid,
  type: z.string().regex(eventTypePattern),
  version: z.number().int().min(1),
  occurredAt: z.iso.datetime(),
  tenantId: z.string().min(1).max(200),
  actor: actorSchema,
  subject: subjectSchema.optional(),
  correlationId: z.string().min(1).max(200),
  data: z.record(z.string(), z.unknown()),
});
export type EventEnvelope<D = Record<string, unknown>> = Omit<z.infer<typeof envelopeSchema>, 'data'> & { data: D };

export interface EventDefinition<T extends string = string, S extends z.ZodType = z.ZodType> {
  type: T;
  version: number;
  data: S;
  /** What the event means, for the docs and the audit viewer. */
  description: string;
}

export function defineEvent<T extends string, S extends z.ZodType>(
  type: T,
  version: number,
  data: S,
  description: string,
): EventDefinition<T, S> {
  if (!eventTypePattern.test(type)) throw new Error(`event type ${type} is not <service>.<entity>.<verb>`);
  return { type, version, data, description };
}

// Shared field shapes for event data: ids and codes only, never names, text or contacts.
export const id = z.string().min(1).max(200);
export const code = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[A-Za-z0-9_.:-]+$/);
export const count = z.number().int().min(0);
