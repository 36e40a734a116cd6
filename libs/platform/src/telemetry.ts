// OpenTelemetry bootstrap. Loaded before anything else with `node --import`, through
// telemetry-register.ts. Without OTEL_EXPORTER_OTLP_ENDPOINT it only installs the W3C
// propagator, so trace context still flows through HTTP and AMQP headers.
import { propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

let started = false;

export async function startTelemetry(serviceName: string, endpoint: string | undefined): Promise<() => Promise<void>> {
  if (started) return async () => undefined;
  started = true;
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  if (!endpoint) return async () => undefined;
  const [{ NodeSDK }, { OTLPTraceExporter }, { HttpInstrumentation }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/instrumentation-http'),
  ]);
  const sdk = new NodeSDK({
    serviceName,
    traceExporter: new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` }),
    instrumentations: [new HttpInstrumentation()],
  });
  sdk.start();
  return () => sdk.shutdown();
}
