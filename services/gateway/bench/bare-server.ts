// The floor the gateway benchmarks measure against: a bare node:http JSON server in its own
// process (as the services and the gateway are), answering every request with one small
// patient-like JSON body.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
