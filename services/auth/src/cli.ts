// Operator commands, run with the service's environment:
//   node --import tsx src/cli.ts rotate-keys [--force]
//       the published next key starts signing, a new next key is published; tokens
//       already issued stay valid until they expire (the old key stays in the JWKS).
//       Refused while the next key is younger than verifiers' JWKS cache (11 min), so
//       no service meets a kid it has never fetched; --force skips that wait.
//   KEK=<new> KEK_ID=<new id> KEK_PREVIOUS=<old id>:<old key> node --import tsx src/cli.ts rotate-kek
//       moves everything under the KEK to the new one: re-wraps tenant keys, re-seals
//       signing keys, migrates users still sealed directly under a KEK. Prints counts.
//   node --import tsx src/cli.ts create-support-user --email <e> --name <n>
//       a platform support user; the password is read from stdin (never argv). 2FA is
//       mandatory: their first login goes through TOTP enrolment.
import { cliOption, openServiceDeps, readStdin } from '@praxis/platform';
import { buildAuth, ownJwks } from './app';
import { loadAuthConfig } from './config';
import { createSupportUser } from './support/support-users';
import { rotateSigningKeys } from './tokens/rotate';
import { rotateKek } from './keys/rotate-kek';

async function main(): Promise<void> {
  const command = process.argv[2];
  if (command !== 'rotate-keys' && command !== 'rotate-kek' && command !== 'create-support-user') {
    process.stderr.write(
      'usage: cli.ts rotate-keys [--force] | rotate-kek | create-support-user --email <email> --name <name>  (password on stdin)\n',
    );
    process.exit(2);
  }
  const config = { ...loadAuthConfig(), LOG_LEVEL: 'warn' as const };
  const jwks = ownJwks();
  const base = await openServiceDeps('auth', config, { jwksSource: jwks.source });
  try {
    // Built like the service, never started: commands write through the repositories and
    // drain the outbox themselves.
    const deps = await buildAuth({ ...base, config }, jwks);
    if (command === 'rotate-keys') {
      const { activated, next } = await rotateSigningKeys(deps, { force: process.argv.includes('--force') });
      await deps.relay.drainOnce().catch(() => undefined);
      process.stdout.write(`signing with ${activated}; next key ${next} published\n`);
      return;
    }
    if (command === 'rotate-kek') {
      process.stdout.write(`${JSON.stringify(await rotateKek(deps))}\n`);
      return;
    }
    const email = cliOption('email');
    const name = cliOption('name');
    if (!email || !name) throw new Error('--email and --name are required');
    const password = (await readStdin()).replace(/\r?\n$/, '');
    const userId = await createSupportUser(deps, { email, name, password });
    process.stdout.write(`support user ${userId} created; TOTP enrolment happens at their first login (POST /api/v1/support/login)\n`);
  } finally {
    await base.lifecycle.stop(5_000);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    const details = (err as { errors?: { message: string }[] }).errors?.map((e) => e.message).join('; ');
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}${details ? ` (${details})` : ''}\n`);
    process.exit(1);
  },
);
