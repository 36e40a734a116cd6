// A private Mailpit for one test suite (the binary scripts/infra builds into .data/bin):
// its own free ports, its own database file, STARTTLS required with a throwaway
// self-signed certificate — or, for the "refuses to send in clear" test, no TLS at all.
// Mails are read back through Mailpit's REST API.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, freePort, localhostCertificate, waitFor } from './testing';

export interface TestMailpit {
  smtpUrl: string;
  apiUrl: string;
  /** The certificate to trust (absent without TLS). */
  caFile?: string;
  /** Messages to one address: `{ ID, Subject, … }`, newest first. */
  to(address: string): Promise<{ ID: string; Subject: string }[]>;
  /** One message in full (Text, HTML). */
  message(id: string): Promise<{ Text: string; HTML: string; Subject: string; To: { Address: string }[] }>;
  stop(): Promise<void>;
}

export const MAILPIT_BIN = path.join(ROOT, '.data', 'bin', 'mailpit');

export async function startMailpit(opts: { tls: boolean }): Promise<TestMailpit> {
  if (!existsSync(MAILPIT_BIN)) throw new Error(`${MAILPIT_BIN} is missing: run scripts/infra up (it builds Mailpit)`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'praxis-mailpit-'));
  const smtpPort = await freePort();
  const uiPort = await freePort();
  const args = [
    '--smtp',
    `127.0.0.1:${smtpPort}`,
    '--listen',
    `127.0.0.1:${uiPort}`,
    '--database',
    path.join(dir, 'mail.db'),
    '--disable-version-check',
    '--quiet',
  ];
  let caFile: string | undefined;
  if (opts.tls) {
    caFile = localhostCertificate(dir).certFile;
    args.push('--smtp-tls-cert', caFile, '--smtp-tls-key', path.join(dir, 'tls.key'), '--smtp-require-starttls');
  }
  const child: ChildProcess = spawn(MAILPIT_BIN, args, { stdio: 'ignore' });
  const apiUrl = `http://127.0.0.1:${uiPort}`;
  await waitFor(
    async () =>
      (await fetch(`${apiUrl}/api/v1/info`)
        .then((r) => r.ok)
        .catch(() => false)) || undefined,
    { what: 'Mailpit', timeoutMs: 20_000 },
  );
  return {
    smtpUrl: `smtp://127.0.0.1:${smtpPort}`,
    apiUrl,
    ...(caFile ? { caFile } : {}),
    async to(address) {
      const res = await fetch(`${apiUrl}/api/v1/search?query=${encodeURIComponent(`to:"${address}"`)}`);
      return ((await res.json()) as { messages: { ID: string; Subject: string }[] }).messages ?? [];
    },
    async message(id) {
      return (await (await fetch(`${apiUrl}/api/v1/message/${id}`)).json()) as {
        Text: string;
        HTML: string;
        Subject: string;
        To: { Address: string }[];
      };
    },
    async stop() {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5_000))]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
