// Offline verifier for an audit log export:
//   node --import tsx services/audit/src/verify-cli.ts <export.jsonl> <public-key.json>
// <public-key.json> is what GET /api/v1/audit/public-key returned (a JWK, or a JWK Set).
// Checks every entry's hash and link, every checkpoint's Ed25519 signature, and that the
// export ends with a signed checkpoint of its last entry. Exit 0 when it all holds,
// 1 naming the first broken entry otherwise, 2 on bad usage or unreadable input.
// Needs nothing but Node and this repository: no network, no database.
import { readFileSync } from 'node:fs';
import { keysFromJwks } from './checkpoints/checkpoint';
import { verifyExport } from './verify/chain-verifier';

function main(argv: string[]): number {
  const [exportPath, keyPath] = argv;
  if (!exportPath || !keyPath) {
    process.stderr.write('usage: verify-cli <export.jsonl> <public-key.json>\n');
    return 2;
  }
  let text: string;
  let keys: ReturnType<typeof keysFromJwks>;
  try {
    text = readFileSync(exportPath, 'utf8');
    keys = keysFromJwks(JSON.parse(readFileSync(keyPath, 'utf8')));
  } catch (err) {
    process.stderr.write(`cannot read input: ${(err as Error).message}\n`);
    return 2;
  }
  if (!keys.size) {
    process.stderr.write('no Ed25519 public key (with a kid) found in the key file\n');
    return 2;
  }
  const r = verifyExport(text, keys);
  if (r.ok) {
    const cp = r.checkpoint!;
    process.stdout.write(
      `OK: ${r.entries} entries, head seq ${r.head.seq} hash ${r.head.hash}, checkpoint signed by ${cp.keyId} at ${cp.signedAt}\n`,
    );
    return 0;
  }
  const b = r.firstBroken!;
  process.stdout.write(`BROKEN at seq ${b.seq}${b.line !== undefined ? ` (line ${b.line})` : ''}: ${b.reason}\n`);
  return 1;
}

process.exitCode = main(process.argv.slice(2));
