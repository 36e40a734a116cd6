// Publishing an event: persistent, on the events exchange under its type, with the trace
// context and tenant in its headers; resolves once the broker confirmed (connection.ts).
import { propagation, context as otelContext } from '@opentelemetry/api';
import { EVENTS_EXCHANGE, type EventEnvelope } from '@praxis/contracts';
import { childTraceparent, currentContext } from '../context';
import type { Metrics } from '../metrics';
import type { BusConnection } from './connection';

export async function publishEvent(conn: BusConnection, event: EventEnvelope, metrics?: Metrics): Promise<void> {
  const headers: Record<string, unknown> = {};
  propagation.inject(otelContext.active(), headers);
  if (!headers.traceparent) headers.traceparent = currentContext()?.traceparent ?? childTraceparent();
  headers['x-tenant-id'] = event.tenantId;
  await conn.sendConfirmed(EVENTS_EXCHANGE, event.type, Buffer.from(JSON.stringify(event)), {
    messageId: event.id,
    type: event.type,
    correlationId: event.correlationId,
    timestamp: Math.floor(Date.parse(event.occurredAt) / 1000),
    headers,
  });
  metrics?.counter('bus_published_total', 'Events confirmed by the broker', ['type']).inc({ type: event.type });
}
