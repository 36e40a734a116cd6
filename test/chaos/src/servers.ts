// The chaos run's own FerretDB, RabbitMQ and Redis (never the shared ones): their ports
// and data directory come from scripts/chaos (PRAXIS_INFRA_*), and scripts/infra starts
// them. A fault is a SIGKILL to the pid in the server's pid file; recovery is
// `scripts/infra start <server>` with the same environment, as an operator (or a
// Kubernetes restart) would do.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../../e2e/platform';

const run = promisify(execFile);
// eslint-disable-next-line no-restricted-syntax -- a script's own settings, from scripts/chaos
export const env = process.env;

export type Server = 'ferretdb' | 'rabbitmq' | 'redis';

function required(name: string): string {
  const v = env[name];
  if (!v) throw new Error(`${name} is not set: run this through scripts/chaos`);
  return v;
}

export const chaosInfra = {
  dir: required('PRAXIS_INFRA_DIR'),
  ferretPort: Number(required('PRAXIS_INFRA_FERRET_PORT')),
  amqpPort: Number(required('PRAXIS_INFRA_AMQP_PORT')),
  mgmtPort: Number(required('PRAXIS_INFRA_AMQP_MGMT_PORT')),
  redisPort: Number(required('PRAXIS_INFRA_REDIS_PORT')),
};
export const mongoUrl = `mongodb://127.0.0.1:${chaosInfra.ferretPort}`;
export const amqpUrl = `amqp://guest:guest@127.0.0.1:${chaosInfra.amqpPort}`;
export const redisUrl = `redis://127.0.0.1:${chaosInfra.redisPort}`;

// The shared servers are never a target: refuse to run against their ports.
for (const [port, shared] of [
  [chaosInfra.ferretPort, 27017],
  [chaosInfra.amqpPort, 5672],
  [chaosInfra.redisPort, 6379],
]) {
  if (port === shared) throw new Error(`port ${port} is a shared server's; scripts/chaos runs its own`);
}

export function serverPid(server: Server): number {
  const pid = Number(readFileSync(path.join(chaosInfra.dir, 'run', `${server}.pid`), 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 1) throw new Error(`no pid for ${server}`);
  return pid;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** kill -9 the server and wait until the process is gone; returns when the signal was sent. */
export async function killServer(server: Server): Promise<number> {
  const pid = serverPid(server);
  if (!alive(pid)) throw new Error(`${server} (pid ${pid}) is not running before the fault`);
  process.kill(pid, 'SIGKILL');
  const sentAt = Date.now();
  for (let i = 0; i < 200 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  if (alive(pid)) throw new Error(`${server} (pid ${pid}) survived SIGKILL`);
  return sentAt;
}

/** Start the server again through scripts/infra (it waits for the port); ms taken. */
export async function startServer(server: Server): Promise<number> {
  const t0 = Date.now();
  await run('bash', [path.join(ROOT, 'scripts/infra'), 'start', server], { env, timeout: 180_000 });
  return Date.now() - t0;
}
