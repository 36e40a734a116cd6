// Operator command: make a new checkpoint-signing key current. Older keys stay published
// so checkpoints they signed keep verifying; running replicas pick the new key up within
// 30 s. Same environment as the service:
//   node --import tsx services/audit/src/rotate-signing-key.ts
import { KekRing, connectMongo } from '@praxis/platform';
import { SigningKeyring } from './checkpoints/signing-keys';
import { loadAuditConfig } from './config';

async function main(): Promise<void> {
  const config = loadAuditConfig();
  const conn = await connectMongo({ url: config.MONGO_URL, dbName: config.MONGO_DB ?? 'audit' });
  try {
    const keyring = new SigningKeyring(conn, new KekRing(config));
    await keyring.init();
    const kid = await keyring.rotate();
    process.stdout.write(`current checkpoint-signing key: ${kid}\n`);
  } finally {
    await conn.close();
  }
}

main().catch((err) => {
  process.stderr.write(`rotation failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
