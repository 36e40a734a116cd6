// OpenTelemetry bootstrap. Loaded before anything else with `node --import`, through
// telemetry-register.ts. Without OTEL_EXPORTER_OTLP_ENDPOINT it only installs the W3C
// propagator, so trace context still flows through HTTP and AMQP headers. With it, the
// SDK starts synchronously, before the service's modules load (the instrumentations hook
// `require`, so a module loaded before them would never be traced), with the maintained
// instrumentations for every hop: HTTP in and out, express routes, RabbitMQ publishes and
// deliveries, MongoDB commands, Redis commands. A trace then runs gateway → service →
// RabbitMQ → consumer → MongoDB/Redis. Statements and command arguments are not recorded
// (they can carry identifying data); the collector drops them again as a second fence.
import { propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { AmqplibInstrumentation } from '@opentelemetry/instrumentation-amqplib';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { MongoDBInstrumentation } from '@opentelemetry/instrumentation-mongodb';
import { NodeSDK } from '@opentelemetry/sdk-node';

let started = false;

/** The instrumentations every service runs with (exported for tests). */
export function praxisInstrumentations() {
  return [
    new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => ['/livez', '/readyz', '/metrics'].includes(req.url ?? '') }),
    new ExpressInstrumentation(),
    new AmqplibInstrumentation(),
    // Never the statement: queries are built from request data.
    new MongoDBInstrumentation({ enhancedDatabaseReporting: false }),
    new IORedisInstrumentation({ dbStatementSerializer: (cmd) => cmd }),
  ];
}

export function startTelemetry(serviceName: string, endpoint: string | undefined): () => Promise<void> {
  if (started) return async () => undefined;
  started = true;
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  if (!endpoint) return async () => undefined;
  const sdk = new NodeSDK({
    serviceName,
    traceExporter: new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` }),
    instrumentations: praxisInstrumentations(),
  });
  sdk.start();
  return () => sdk.shutdown();
}
