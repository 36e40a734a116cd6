// Builds the records service from its dependencies (main.ts passes the real ones; tests
// build it the same way with their own database, bus and token issuer).
import {
  type Authenticator,
  type Bus,
  type HttpAppOptions,
  type KekConfig,
  KekRing,
  type Logger,
  type Metrics,
  ApiRouter,
  KeyedSerialiser,
  MongoIdempotencyStore,
  OutboxRelay,
  createHttpApp,
  serialisedCollection,
} from '@praxis/platform';
import type { Express } from 'express';
import type { Connection } from 'mongoose';
import { Events } from './common/events';
import { KeyService } from './keys/key-service';
import { KeyRepository } from './keys/model';
import { NoteRepository, noteModel } from './notes/model';
import { noteRoutes } from './notes/routes';
import { PatientRepository, patientModel } from './patients/model';
import { patientRoutes } from './patients/routes';
import { startSubjectDataConsumers } from './subject-data/consumers';
import { TombstoneRepository, tombstoneModels } from './subject-data/model';
import { subjectDataRoutes } from './subject-data/routes';
import type { SubjectDataDeps } from './subject-data/use-cases';
import { TemplateRepository, templateModel } from './templates/model';
import { templateRoutes } from './templates/routes';
import { contactRoutes } from './contact/routes';

export interface RecordsDeps {
  logger: Logger;
  metrics: Metrics;
  mongo: Connection;
  bus: Bus;
  authenticator: Authenticator;
  keks: KekConfig;
  readiness?: Record<string, () => Promise<unknown>>;
  /** Outbox polling interval (tests shorten it). */
  relayIntervalMs?: number;
  /** Prefix of the bus consumer names (RECORDS_CONSUMER_PREFIX). */
  consumerPrefix?: string;
  /** TRUSTED_PROXIES and REQUEST_TIMEOUT_MS from the config. */
  http?: Pick<HttpAppOptions, 'trustedProxies' | 'requestTimeoutMs'>;
}

export interface Records {
  app: Express;
  relay: OutboxRelay;
  keys: KeyService;
  patients: PatientRepository;
  notes: NoteRepository;
  templates: TemplateRepository;
  subjectData: SubjectDataDeps;
  /** Start the outbox relay and the bus consumers (once the service is ready). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function buildRecords(deps: RecordsDeps): Promise<Records> {
  const keyRepo = new KeyRepository(deps.mongo);
  const keys = new KeyService(keyRepo, new KekRing(deps.keks));
  const Patient = patientModel(deps.mongo);
  const Note = noteModel(deps.mongo);
  const Template = templateModel(deps.mongo);
  const tombstones = tombstoneModels(deps.mongo);
  // Documents that get events after their insert are updated one writer at a time.
  const serial = new KeyedSerialiser();
  const patientCol = serialisedCollection(Patient.collection, serial);
  const erasureCol = serialisedCollection(tombstones.Erasure.collection, serial);
  const purgeCol = serialisedCollection(tombstones.TenantPurge.collection, serial);
  const patients = new PatientRepository(Patient, keys, patientCol);
  const notes = new NoteRepository(Note, keys);
  const templates = new TemplateRepository(Template);
  const tombstoneRepo = new TombstoneRepository(tombstones, { erasures: erasureCol, purges: purgeCol });

  const relay = new OutboxRelay({
    bus: deps.bus,
    logger: deps.logger,
    metrics: deps.metrics,
    conn: deps.mongo,
    collections: [patientCol, Note.collection, Template.collection, erasureCol, purgeCol],
    intervalMs: deps.relayIntervalMs ?? 250,
  });
  const idempotency = new MongoIdempotencyStore(deps.mongo);
  // Unique indexes matter for correctness (refs, keys, tombstones): build them before serving.
  await keyRepo.init(deps.logger);
  for (const model of Object.values(deps.mongo.models)) await model.createIndexes();
  await relay.init();
  await idempotency.init();

  const events = new Events(deps.mongo, relay);
  const subjectData: SubjectDataDeps = { patients, notes, templates, keys, tombstones: tombstoneRepo, events, logger: deps.logger };

  const api = new ApiRouter(deps.authenticator);
  patientRoutes(api, { patients, events });
  noteRoutes(api, { patients, notes, events });
  templateRoutes(api, { patients, templates, events, assertTenantActive: (tenantId) => keys.tenantKey(tenantId) });
  subjectDataRoutes(api, subjectData);
  contactRoutes(api, { patients, templates, events, assertTenantActive: (tenantId) => keys.tenantKey(tenantId) });

  const app = createHttpApp({
    service: 'records',
    logger: deps.logger,
    metrics: deps.metrics,
    readiness: deps.readiness ?? {},
    routers: [api],
    ...deps.http,
  });

  return {
    app,
    relay,
    keys,
    patients,
    notes,
    templates,
    subjectData,
    async start() {
      relay.start();
      await startSubjectDataConsumers(deps.bus, idempotency, subjectData, deps.consumerPrefix ?? '');
    },
    async stop() {
      await relay.stop();
    },
  };
}
