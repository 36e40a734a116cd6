// Entry for `node --import @praxis/platform/telemetry-register`: starts OpenTelemetry
// before the service's own modules load. These two variables are OpenTelemetry's own
// conventions, the one place outside a service's config.ts that reads the environment.
import { startTelemetry } from './telemetry';

void startTelemetry(process.env.OTEL_SERVICE_NAME ?? 'praxis', process.env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined);
