// The two SMS provider simulators as one process, for scripts/infra (the demo and manual
// runs; tests start their own in-process on free ports). Credentials come from the
// environment, which scripts/infra fills from .data/secrets/.
//   SIM_TWILIO_PORT (4010) SIM_VONAGE_PORT (4011) TWILIO_ACCOUNT_SID TWILIO_AUTH_TOKEN
//   VONAGE_API_KEY VONAGE_API_SECRET VONAGE_SIGNATURE_SECRET
import { startSmsSimulator } from './sms-simulator';

// A development tool started by scripts/infra, not a service: its environment is its config.
// eslint-disable-next-line no-restricted-syntax
const env = process.env;

async function main(): Promise<void> {
  const twilio = await startSmsSimulator({
    provider: 'twilio',
    port: Number(env.SIM_TWILIO_PORT ?? 4010),
    ...(env.TWILIO_ACCOUNT_SID ? { accountSid: env.TWILIO_ACCOUNT_SID } : {}),
    ...(env.TWILIO_AUTH_TOKEN ? { authToken: env.TWILIO_AUTH_TOKEN } : {}),
  });
  const vonage = await startSmsSimulator({
    provider: 'vonage',
    port: Number(env.SIM_VONAGE_PORT ?? 4011),
    ...(env.VONAGE_API_KEY ? { apiKey: env.VONAGE_API_KEY } : {}),
    ...(env.VONAGE_API_SECRET ? { apiSecret: env.VONAGE_API_SECRET } : {}),
    ...(env.VONAGE_SIGNATURE_SECRET ? { signatureSecret: env.VONAGE_SIGNATURE_SECRET } : {}),
  });
  console.log(JSON.stringify({ msg: 'sms simulators listening', twilio: twilio.url, vonage: vonage.url }));
  const stop = () => void Promise.all([twilio.close(), vonage.close()]).finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
