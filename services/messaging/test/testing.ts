// Re-exports of the shared fixtures, plus the small helpers these suites share.
import { ROOT, infra } from '@praxis/testing';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
export * from '@praxis/testing';

/**
 * Where the running FerretDB keeps its SQLite files: this checkout's `.data/ferretdb`, or —
 * when FerretDB was started from another checkout of the repository — the directory named
 * by the `--sqlite-url` of the one listening on the tests' port (read from /proc).
 */
export function ferretDataDir(): string {
  const own = path.join(ROOT, '.data', 'ferretdb');
  if (existsSync(own)) return own;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      const url = args.find((a) => a.startsWith('--sqlite-url=file:'));
      const port = new URL(infra.mongoUrl).port || '27017';
      if (url && args.some((a) => a.startsWith('--listen-addr=') && a.endsWith(`:${port}`)))
        return url.slice('--sqlite-url=file:'.length).replace(/\/$/, '');
    } catch {
      // a process that ended meanwhile
    }
  }
  return own;
}
