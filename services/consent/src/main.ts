// Boot: configuration, connections, the app, the outbox relay, the consumers and the
// subject-rights runner; closes everything in reverse order on SIGTERM/SIGINT.
import { AuthServiceTokens, openServiceDeps, runMain, servicePartsOf, serveService } from '@praxis/platform';
import { buildConsent } from './app';
import { loadConsentConfig, participantsOf } from './config';

async function main(): Promise<void> {
  const config = loadConsentConfig();
  const deps = await openServiceDeps('consent', config);
  const consent = await buildConsent({
    ...servicePartsOf(deps, config),
    participants: participantsOf(config),
    authUrl: config.AUTH_URL,
    serviceTokens: new AuthServiceTokens({ authUrl: config.AUTH_URL, service: 'consent', clientSecret: config.SERVICE_CLIENT_SECRET }),
    settings: {
      noticeLinkTtlMs: config.NOTICE_LINK_TTL_S * 1000,
      sarExportTtlMs: config.SAR_EXPORT_TTL_S * 1000,
      erasureRetryMs: config.ERASURE_RETRY_S * 1000,
      erasureDeadlineMs: config.ERASURE_DEADLINE_S * 1000,
      runnerIntervalMs: config.RUNNER_INTERVAL_MS,
      collationLeaseMs: config.SAR_COLLATION_LEASE_S * 1000,
      sarRetryMs: config.SAR_RETRY_S * 1000,
      sarRetryWindowMs: config.SAR_RETRY_WINDOW_S * 1000,
    },
    consumerPrefix: config.CONSENT_CONSUMER_PREFIX,
  });
  await serveService(deps, config, consent);
}

runMain(main);
