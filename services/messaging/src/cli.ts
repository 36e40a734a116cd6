// Operator commands, run with messaging's environment (MONGO_URL, MONGO_DB, AUTH_URL,
// SERVICE_CLIENT_SECRET, SMTP_*):
//   node --import tsx src/cli.ts practice-notice --id <notice-id> --subject <subject>
//       emails every active admin of every practice the notice read from stdin (planned
//       maintenance, an outage), through messaging's email sender (STARTTLS required).
//       Admins come from auth's internal GET /internal/practice-admins. Rerunning with the
//       same --id sends only what an earlier run did not (src/practice-notices/notices.ts).
//       Prints the counts as JSON; exits 1 when any send failed.
import { cliOption, connectMongo, createLogger, readStdin } from '@praxis/platform';
import { loadCliConfig } from './config';
import { AuthPracticeAdmins } from './practice-notices/auth-admins';
import { sendPracticeNotice } from './practice-notices/notices';
import { EmailSender } from './providers/email';

async function main(): Promise<void> {
  const id = cliOption('id');
  const subject = cliOption('subject');
  if (process.argv[2] !== 'practice-notice' || !id || !subject) {
    process.stderr.write('usage: cli.ts practice-notice --id <notice-id> --subject <subject>  (the notice text on stdin)\n');
    process.exit(2);
  }
  const text = (await readStdin()).trim();
  if (!text) throw new Error('the notice text (stdin) is empty');
  const config = loadCliConfig();
  const logger = createLogger({ service: 'messaging-cli', level: config.LOG_LEVEL });
  const mongo = await connectMongo({ url: config.MONGO_URL, dbName: config.MONGO_DB ?? 'praxis_messaging' });
  const email = new EmailSender({
    url: config.SMTP_URL,
    ...(config.SMTP_CA_FILE ? { caFile: config.SMTP_CA_FILE } : {}),
    ...(config.SMTP_USER ? { user: config.SMTP_USER, password: config.SMTP_PASSWORD ?? '' } : {}),
    from: config.SMTP_FROM,
  });
  try {
    const result = await sendPracticeNotice(
      { mongo, email, logger, admins: new AuthPracticeAdmins({ authUrl: config.AUTH_URL, clientSecret: config.SERVICE_CLIENT_SECRET }) },
      { id, subject, text },
    );
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (result.failed) process.exitCode = 1;
  } finally {
    email.close();
    await mongo.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
