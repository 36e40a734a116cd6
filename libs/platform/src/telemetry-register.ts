// Entry for `node --import @praxis/platform/telemetry-register`: starts OpenTelemetry
// before the service's own modules load. These two variables are OpenTelemetry's own
// conventions, the one place outside a service's config.ts that reads the environment.
import { startTelemetry } from './telemetry';

const shutdown = startTelemetry(process.env.OTEL_SERVICE_NAME ?? 'praxis', process.env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined);
// Spans still buffered when the process ends are flushed (the services exit after their
// graceful close; a short-lived command exits at the end of its work).
process.once('beforeExit', () => void shutdown());
