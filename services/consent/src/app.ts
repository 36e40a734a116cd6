// Builds the consent service from its dependencies (main.ts passes the real ones; tests
// build it the same way with their own database, bus, token issuer and participants).
import {
  ApiRouter,
  KekRing,
  KeyedSerialiser,
  type BuiltService,
  type ServiceParts,
  type ServiceTokenSource,
  openServiceStore,
  serialisedCollection,
  serviceHttpApp,
} from '@praxis/platform';
import { Events } from './common/events';
import { ErasureRepository, erasureModel } from './erasure/model';
import { startErasureAnswerConsumer } from './erasure/consumers';
import { erasureRoutes } from './erasure/routes';
import type { ErasureDeps } from './erasure/use-cases';
import { KeyService } from './keys/key-service';
import { KeyRepository } from './keys/model';
import { NoticeRepository, noticeModels } from './notices/model';
import { noticeRoutes } from './notices/routes';
import type { NoticeDeps } from './notices/use-cases';
import { practiceNames } from './notices/practices';
import { startPatientConsumer } from './patients/consumers';
import { KnownPatientRepository, knownPatientModel, practiceModel } from './patients/model';
import { PreferenceRepository, preferenceModels } from './preferences/model';
import { preferenceRoutes } from './preferences/routes';
import type { PreferenceDeps } from './preferences/use-cases';
import { SarRepository, sarModels } from './subject-access/model';
import type { Participant } from './subject-access/participants';
import { subjectAccessRoutes } from './subject-access/routes';
import { SubjectRightsRunner } from './subject-access/runner';
import type { SubjectAccessDeps } from './subject-access/use-cases';
import { startOwnErasureConsumer } from './subject-data/consumers';
import { OwnErasureRepository, ownErasureModel } from './subject-data/model';
import { subjectDataRoutes } from './subject-data/routes';
import { type OwnPartDeps, exportOwnPart } from './subject-data/use-cases';

export interface ConsentSettings {
  noticeLinkTtlMs: number;
  sarExportTtlMs: number;
  erasureRetryMs: number;
  erasureDeadlineMs: number;
  runnerIntervalMs: number;
  /** How long one replica holds a subject access request it collates before another may take over. */
  collationLeaseMs: number;
  /** A participant that failed transiently is asked again after this long, for up to sarRetryWindowMs. */
  sarRetryMs: number;
  sarRetryWindowMs: number;
  /** Back-off between attempts at a participant's export (default 0.5 s, 2 s, 5 s). */
  exportRetryDelaysMs?: number[];
}

export const defaultSettings: ConsentSettings = {
  noticeLinkTtlMs: 14 * 24 * 3600_000,
  sarExportTtlMs: 7 * 24 * 3600_000,
  erasureRetryMs: 60_000,
  erasureDeadlineMs: 24 * 3600_000,
  runnerIntervalMs: 5_000,
  collationLeaseMs: 120_000,
  sarRetryMs: 30_000,
  sarRetryWindowMs: 3600_000,
};

export interface ConsentDeps extends ServiceParts {
  /** The subject-rights participants this deployment runs (registry entries with URLs). */
  participants: Participant[];
  /** Service tokens for calling the participants' internal routes (and auth's practice profile). */
  serviceTokens: ServiceTokenSource;
  /** Auth's base URL, for the practice's display name on the public notice page; without it the page shows the slug. */
  authUrl?: string;
  settings?: Partial<ConsentSettings>;
  /** Prefix of the bus consumer names (CONSENT_CONSUMER_PREFIX). */
  consumerPrefix?: string;
}

export interface Consent extends BuiltService {
  keys: KeyService;
  patients: KnownPatientRepository;
  runner: SubjectRightsRunner;
}

export async function buildConsent(deps: ConsentDeps): Promise<Consent> {
  const settings = { ...defaultSettings, ...deps.settings };
  const keyStore = new KeyRepository(deps.mongo);
  const keys = new KeyService(keyStore, new KekRing(deps.keks));
  const patients = new KnownPatientRepository(knownPatientModel(deps.mongo), practiceModel(deps.mongo));
  const notices = new NoticeRepository(noticeModels(deps.mongo));
  const preferences = new PreferenceRepository(preferenceModels(deps.mongo));
  // Documents that get events after their insert are updated one writer at a time.
  const serial = new KeyedSerialiser();
  const sar = sarModels(deps.mongo);
  const sarCol = serialisedCollection(sar.Request.collection, serial);
  const Erasure = erasureModel(deps.mongo);
  const erasureCol = serialisedCollection(Erasure.collection, serial);
  const OwnErasure = ownErasureModel(deps.mongo);
  const ownCol = serialisedCollection(OwnErasure.collection, serial);
  const requests = new SarRepository(sar, sarCol);
  const erasures = new ErasureRepository(Erasure, erasureCol);
  const tombstones = new OwnErasureRepository(OwnErasure, ownCol);

  await keyStore.init(deps.logger);
  const { relay, idempotency } = await openServiceStore(deps, [
    notices.m.Version.collection,
    notices.m.Request.collection,
    notices.m.Ack.collection,
    preferences.m.Preference.collection,
    preferences.m.Code.collection,
    sarCol,
    erasureCol,
    ownCol,
  ]);

  const events = new Events(deps.mongo, relay);
  const noticeDeps: NoticeDeps = {
    notices,
    patients,
    events,
    linkTtlMs: settings.noticeLinkTtlMs,
    practiceName: deps.authUrl
      ? practiceNames({ authUrl: deps.authUrl, tokens: deps.serviceTokens, practices: patients, logger: deps.logger })
      : async (tenantId) => (await patients.practiceName(tenantId)).name,
  };
  const preferenceDeps: PreferenceDeps = { preferences, notices, patients, keys, events };
  const ownPart: OwnPartDeps = { ...preferenceDeps, requests, tombstones, logger: deps.logger };
  const sarDeps: SubjectAccessDeps = {
    requests,
    erasures,
    patients,
    keys,
    events,
    participants: deps.participants,
    client: { tokens: deps.serviceTokens, ...(settings.exportRetryDelaysMs ? { retryDelaysMs: settings.exportRetryDelaysMs } : {}) },
    ownPart: (tenantId, patientId) => exportOwnPart(preferenceDeps, tenantId, patientId),
    exportTtlMs: settings.sarExportTtlMs,
    collationLeaseMs: settings.collationLeaseMs,
    retryMs: settings.sarRetryMs,
    retryWindowMs: settings.sarRetryWindowMs,
    logger: deps.logger,
  };
  const erasureDeps: ErasureDeps = {
    erasures,
    requests,
    patients,
    keys,
    events,
    participants: deps.participants,
    retryMs: settings.erasureRetryMs,
    deadlineMs: settings.erasureDeadlineMs,
    logger: deps.logger,
  };
  const runner = new SubjectRightsRunner(sarDeps, erasureDeps, settings.runnerIntervalMs, deps.logger);

  const api = new ApiRouter(deps.authenticator);
  noticeRoutes(api, noticeDeps);
  preferenceRoutes(api, preferenceDeps);
  subjectAccessRoutes(api, sarDeps, (r) => runner.collate(r));
  erasureRoutes(api, erasureDeps);
  subjectDataRoutes(api, preferenceDeps);

  const app = serviceHttpApp('consent', deps, [api]);
  const prefix = deps.consumerPrefix ?? '';

  return {
    app,
    relay,
    keys,
    patients,
    runner,
    async start() {
      relay.start();
      await startPatientConsumer(deps.bus, idempotency, patients, prefix);
      await startOwnErasureConsumer(deps.bus, idempotency, erasures, ownPart, prefix);
      await startErasureAnswerConsumer(deps.bus, idempotency, erasureDeps, prefix);
      runner.start();
    },
    async stop() {
      await runner.stop();
      await relay.stop();
    },
  };
}
