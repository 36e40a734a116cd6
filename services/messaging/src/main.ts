// Boot: configuration, connections, the app, the outbox relay and the consumers (the
// delivery and batch workers among them); closes everything in reverse order on SIGTERM.
import { AuthServiceTokens, openServiceDeps, runMain, servicePartsOf, serveService } from '@praxis/platform';
import { buildMessaging } from './app';
import { loadMessagingConfig } from './config';
import { AuthPracticeNames } from './direct-messages/practices';
import { EmailSender } from './providers/email';
import { HttpRecordsClient } from './records-client/records-client';
import { authPracticeDirectory } from './subject-data/practices';

async function main(): Promise<void> {
  const config = loadMessagingConfig();
  const deps = await openServiceDeps('messaging', config);
  const email = new EmailSender({
    url: config.SMTP_URL,
    ...(config.SMTP_CA_FILE ? { caFile: config.SMTP_CA_FILE } : {}),
    ...(config.SMTP_USER ? { user: config.SMTP_USER, password: config.SMTP_PASSWORD ?? '' } : {}),
    from: config.SMTP_FROM,
  });
  deps.lifecycle.onClose('smtp', () => email.close());
  const tokens = new AuthServiceTokens({ authUrl: config.AUTH_URL, service: 'messaging', clientSecret: config.SERVICE_CLIENT_SECRET });
  const messaging = await buildMessaging({
    ...servicePartsOf(deps, config),
    records: new HttpRecordsClient(config.RECORDS_URL, tokens),
    email,
    practices: new AuthPracticeNames(config.AUTH_URL),
    knownPractice: authPracticeDirectory(tokens),
    sms: {
      primary: config.SMS_PRIMARY,
      twilio: {
        apiUrl: config.TWILIO_API_URL,
        accountSid: config.TWILIO_ACCOUNT_SID,
        authToken: config.TWILIO_AUTH_TOKEN,
        from: config.TWILIO_FROM,
      },
      vonage: {
        apiUrl: config.VONAGE_API_URL,
        apiKey: config.VONAGE_API_KEY,
        apiSecret: config.VONAGE_API_SECRET,
        signatureSecret: config.VONAGE_SIGNATURE_SECRET,
        from: config.VONAGE_FROM,
      },
      timeoutMs: config.SMS_TIMEOUT_MS,
      breakerFailures: config.SMS_BREAKER_FAILURES,
      halfOpenAfterMs: config.SMS_BREAKER_HALF_OPEN_MS,
    },
    webhookBaseUrl: config.WEBHOOK_BASE_URL ?? config.PUBLIC_URL,
    publicUrl: config.PUBLIC_URL,
    dmTtlDays: config.DM_TTL_DAYS,
    consumerPrefix: config.MESSAGING_CONSUMER_PREFIX,
    busRetries: config.BUS_RETRY_DELAYS_MS.length,
    creditHoldMs: config.CREDIT_HOLD_S * 1000,
    creditSweepMs: config.CREDIT_SWEEP_MS,
  });
  await serveService(deps, config, messaging);
}

runMain(main);
