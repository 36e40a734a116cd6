// The audit service's express app, built from its dependencies so tests can build it too.
import {
  ApiRouter,
  type Authenticator,
  type HttpAppOptions,
  type Logger,
  type Metrics,
  type ReadinessCheck,
  createHttpApp,
} from '@praxis/platform';
import type { Express } from 'express';
import type { Connection } from 'mongoose';
import type { AuditCore } from './audit';
import { queryRoutes } from './query/routes';
import { subjectDataRoutes } from './subject-data/routes';
import { verifyRoutes } from './verify/routes';

export interface AuditAppDeps {
  core: AuditCore;
  conn: Connection;
  authenticator: Authenticator;
  logger: Logger;
  metrics: Metrics;
  readiness?: Record<string, ReadinessCheck>;
  onEventsRecorded?: () => void;
  /** TRUSTED_PROXIES and REQUEST_TIMEOUT_MS from the config (the request deadline stays below the gateway's). */
  http?: Pick<HttpAppOptions, 'trustedProxies' | 'requestTimeoutMs'>;
}

export function buildApp(d: AuditAppDeps): Express {
  const api = new ApiRouter(d.authenticator);
  queryRoutes(api, d.core.log);
  subjectDataRoutes(api, d.core.log);
  verifyRoutes(api, {
    log: d.core.log,
    checkpoints: d.core.checkpoints,
    keyring: d.core.keyring,
    conn: d.conn,
    logger: d.logger,
    ...(d.onEventsRecorded ? { onEventsRecorded: d.onEventsRecorded } : {}),
  });
  return createHttpApp({
    service: 'audit',
    logger: d.logger,
    metrics: d.metrics,
    routers: [api],
    ...(d.readiness ? { readiness: d.readiness } : {}),
    ...d.http,
  });
}
