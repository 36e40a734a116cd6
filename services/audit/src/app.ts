// Builds the audit service from its dependencies (main.ts passes the real ones; tests and
// benchmarks build it the same way): the log, its appender, checkpoints and signing keys,
// the outbox relay for audit's own events, and the express app.
import {
  ApiRouter,
  type BuiltService,
  type KekConfig,
  KekRing,
  type Metrics,
  OutboxRelay,
  type ServiceParts,
  serviceHttpApp,
} from '@praxis/platform';
import { Checkpointer } from './checkpoints/checkpointer';
import { CheckpointRepository } from './checkpoints/model';
import { SigningKeyring } from './checkpoints/signing-keys';
import { LogAppender } from './log/append';
import { startLogConsumer } from './log/consumer';
import { AuditLogRepository } from './log/model';
import { queryRoutes } from './query/routes';
import { subjectDataRoutes } from './subject-data/routes';
import { verifyRoutes } from './verify/routes';

export interface AuditDeps extends Omit<ServiceParts, 'keks'> {
  /** Seals the checkpoint-signing keys (KEK, KEK_ID, KEK_PREVIOUS). */
  keks: KekConfig | KekRing;
  /** Sign a checkpoint at every multiple of this seq, and at least this often (AUDIT_CHECKPOINT_*). */
  checkpointEvery: number;
  checkpointIntervalMs: number;
  /** The most entries of one tenant appended in one insert (AUDIT_BATCH_MAX). */
  maxBatch?: number;
  /** The log consumer's prefetch and name (AUDIT_PREFETCH, AUDIT_CONSUMER_NAME). */
  consumer?: { prefetch?: number; name?: string };
}

/** The log's parts: what a second replica on the same database also has. */
export interface AuditCore {
  log: AuditLogRepository;
  checkpoints: CheckpointRepository;
  keyring: SigningKeyring;
  checkpointer: Checkpointer;
  appender: LogAppender;
}

/** `start()`: the outbox relay, the checkpoint timer and the log consumer (once the service is ready). */
export interface Audit extends AuditCore, BuiltService {}

/**
 * The log's parts over one connection, without HTTP or bus: buildAudit's first step, and
 * what a test's second replica or the storage benchmark needs.
 */
export async function buildAuditLog(
  deps: Pick<AuditDeps, 'logger' | 'mongo' | 'keks' | 'checkpointEvery' | 'checkpointIntervalMs' | 'maxBatch'> & { metrics?: Metrics },
): Promise<AuditCore> {
  const { logger, metrics, mongo } = deps;
  const log = new AuditLogRepository(mongo);
  const checkpoints = new CheckpointRepository(mongo);
  const keyring = new SigningKeyring(mongo, deps.keks instanceof KekRing ? deps.keks : new KekRing(deps.keks));
  await log.init();
  await checkpoints.init();
  await keyring.init();
  const checkpointer = new Checkpointer(log, checkpoints, keyring, {
    every: deps.checkpointEvery,
    intervalMs: deps.checkpointIntervalMs,
    logger,
    ...(metrics ? { metrics } : {}),
  });
  const appender = new LogAppender(log, {
    logger,
    ...(metrics ? { metrics } : {}),
    ...(deps.maxBatch ? { maxBatch: deps.maxBatch } : {}),
    onAppended: (tenantId, entries) => checkpointer.afterAppend(tenantId, entries),
  });
  return { log, checkpoints, keyring, checkpointer, appender };
}

export async function buildAudit(deps: AuditDeps): Promise<Audit> {
  const { logger, metrics, mongo } = deps;
  const core = await buildAuditLog(deps);
  const { log, checkpoints, keyring, checkpointer, appender } = core;
  // Audit's own events (verifications) are stored with recordEvents; the relay sends them.
  const relay = new OutboxRelay({
    bus: deps.bus,
    logger,
    metrics,
    conn: mongo,
    collections: [],
    ...(deps.relayIntervalMs ? { intervalMs: deps.relayIntervalMs } : {}),
  });
  await relay.init();

  const api = new ApiRouter(deps.authenticator);
  queryRoutes(api, log);
  subjectDataRoutes(api, log);
  verifyRoutes(api, { log, checkpoints, keyring, conn: mongo, logger, onEventsRecorded: () => relay.nudge() });
  const app = serviceHttpApp('audit', deps, [api]);

  return {
    app,
    relay,
    log,
    checkpoints,
    keyring,
    checkpointer,
    appender,
    async start() {
      relay.start();
      checkpointer.start();
      await startLogConsumer(deps.bus, appender, deps.consumer ?? {});
    },
    async stop() {
      await checkpointer.stop();
      await relay.stop();
    },
  };
}
