// What every service's test harness (and benchmark) builds a service with: the parts a
// `build<Service>(deps)` takes (libs/platform's ServiceParts) over the suite's own
// connections, tokens signed by a TestIssuer and a fresh KEK; and a sink that keeps every
// event the service publishes, as the suite sees them on the bus.
import type { EventEnvelope } from '@praxis/contracts';
import { Bus, type KekConfig, type Logger, Metrics, type Redis, type ServiceParts, TokenAuthenticator, makeEvent } from '@praxis/platform';
import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { type TestIssuer, infra, unique, waitFor } from './index';

/** A KEK of the suite's own, as a service gets it from its configuration. */
export function testKek(id = 'test-kek-1'): KekConfig {
  return { KEK: randomBytes(32).toString('base64'), KEK_ID: id };
}

/** The ServiceParts for `build<Service>`: the suite's connections, `issuer`'s tokens, `keks`. */
export function testServiceParts(
  service: string,
  c: { logger: Logger; mongo: Connection; bus: Bus; redis: Redis; issuer: TestIssuer },
  keks: KekConfig = testKek(),
): ServiceParts {
  return {
    logger: c.logger,
    metrics: new Metrics(service),
    mongo: c.mongo,
    bus: c.bus,
    authenticator: new TokenAuthenticator(c.issuer.verifier(), c.redis),
    keks,
  };
}

/** A suite's view of the bus: what the service published, and a way to speak to it. */
export interface EventSink {
  bus: Bus;
  /** Every event the service published, in order. */
  events: EventEnvelope[];
  /** Publish another service's event to the service (an erasure request, a purge, a new patient). */
  publish(event: Parameters<typeof makeEvent>[0]): Promise<EventEnvelope>;
  /** The first published event that matches, once it has arrived. */
  waitForEvent(pred: (e: EventEnvelope) => boolean, what: string, timeoutMs?: number): Promise<EventEnvelope>;
}

/** What every service's test harness gives a suite besides the service itself. */
export interface SuiteHarness extends Omit<EventSink, 'bus'> {
  issuer: TestIssuer;
  mongo: Connection;
  dbName: string;
  close(): Promise<void>;
}

/**
 * A consumer of everything `<service>.#` on the bus (its own queue, a unique name), keeping
 * the events in order; `waitForEvent` waits `timeoutMs` unless told otherwise.
 */
export async function eventSink(service: string, logger: Logger, opts: { url?: string; timeoutMs?: number } = {}): Promise<EventSink> {
  const bus = new Bus({ url: opts.url ?? infra.amqpUrl, service: unique(`${service}-sink`), logger });
  await bus.connect();
  const events: EventEnvelope[] = [];
  await bus.consume('sink', { bindings: [`${service}.#`], handler: async (e) => void events.push(e) });
  return {
    bus,
    events,
    async publish(e) {
      const event = makeEvent(e);
      await bus.publish(event);
      return event;
    },
    waitForEvent(pred, what, timeoutMs = opts.timeoutMs ?? 15_000) {
      return waitFor(() => events.find(pred), { what, timeoutMs });
    },
  };
}
