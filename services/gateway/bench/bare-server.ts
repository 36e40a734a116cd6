// The floor the gateway benchmarks measure against: a bare node:http JSON server in its own
// process (as the services and the gateway are), answering every request with one small
// patient-like JSON body.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { freePort } from '../../../test/e2e/platform';

export async function startBareServer(): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const code = `require('node:http').createServer((q, s) => { const b = JSON.stringify({ id: 'pat_x', ref: 'PX-0000-0000', givenName: 'A', familyName: 'B' }); s.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b) }); s.end(b); }).listen(${port}, '127.0.0.1', () => console.log('ready'));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (c) => reject(new Error(`bare server exited (${c})`)));
  });
  return { url: `http://127.0.0.1:${port}/patients/pat_x`, child };
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU seconds (user + system) the process listening on `port` has used so far (/proc). */
export function cpuSecondsOfListener(port: number): () => number {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1]?.endsWith(`:${hex}`) && f[3] === '0A') inodes.add(f[9]!);
    }
  }
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(m[1]!)) {
        return () => cpuSeconds(Number(pid));
      }
    }
  }
  throw new Error(`no process listens on port ${port}`);
}
