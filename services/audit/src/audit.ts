// Wiring the audit log's parts together over one database connection: the log, its
// appender, checkpoints and signing keys. main.ts and the tests both build it this way.
import type { KekRing, Logger, Metrics } from '@praxis/platform';
import type { Connection } from 'mongoose';
import { Checkpointer } from './checkpoints/checkpointer';
import { CheckpointRepository } from './checkpoints/model';
import { SigningKeyring } from './checkpoints/signing-keys';
import { LogAppender } from './log/append';
import { AuditLogRepository } from './log/model';

export interface AuditCoreOptions {
  conn: Connection;
  kek: KekRing;
  logger: Logger;
  metrics?: Metrics;
  checkpointEvery: number;
  checkpointIntervalMs: number;
  maxBatch?: number;
}

export interface AuditCore {
  log: AuditLogRepository;
  checkpoints: CheckpointRepository;
  keyring: SigningKeyring;
  checkpointer: Checkpointer;
  appender: LogAppender;
}

export async function openAuditCore(o: AuditCoreOptions): Promise<AuditCore> {
  const log = new AuditLogRepository(o.conn);
  const checkpoints = new CheckpointRepository(o.conn);
  const keyring = new SigningKeyring(o.conn, o.kek);
  await log.init();
  await checkpoints.init();
  await keyring.init();
  const checkpointer = new Checkpointer(log, checkpoints, keyring, {
    every: o.checkpointEvery,
    intervalMs: o.checkpointIntervalMs,
    logger: o.logger,
    ...(o.metrics ? { metrics: o.metrics } : {}),
  });
  const appender = new LogAppender(log, {
    logger: o.logger,
    ...(o.metrics ? { metrics: o.metrics } : {}),
    ...(o.maxBatch ? { maxBatch: o.maxBatch } : {}),
    onAppended: (tenantId, entries) => checkpointer.afterAppend(tenantId, entries),
  });
  return { log, checkpoints, keyring, checkpointer, appender };
}
