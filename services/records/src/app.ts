// Builds the records service from its dependencies (main.ts passes the real ones; tests
// build it the same way with their own database, bus and token issuer).
import {
  ApiRouter,
  KekRing,
  KeyedSerialiser,
  type BuiltService,
  type ServiceParts,
  openServiceStore,
  serialisedCollection,
  serviceHttpApp,
} from '@praxis/platform';
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

export interface RecordsDeps extends ServiceParts {
  /** Prefix of the bus consumer names (RECORDS_CONSUMER_PREFIX). */
  consumerPrefix?: string;
}

export interface Records extends BuiltService {
  keys: KeyService;
  patients: PatientRepository;
  notes: NoteRepository;
  templates: TemplateRepository;
  subjectData: SubjectDataDeps;
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

  // Unique indexes matter for correctness (refs, keys, tombstones): built before serving.
  await keyRepo.init(deps.logger);
  const { relay, idempotency } = await openServiceStore(deps, [patientCol, Note.collection, Template.collection, erasureCol, purgeCol]);

  const events = new Events(deps.mongo, relay);
  const subjectData: SubjectDataDeps = { patients, notes, templates, keys, tombstones: tombstoneRepo, events, logger: deps.logger };

  const api = new ApiRouter(deps.authenticator);
  patientRoutes(api, { patients, events });
  noteRoutes(api, { patients, notes, events });
  templateRoutes(api, { patients, templates, events, assertTenantActive: (tenantId) => keys.tenantKey(tenantId) });
  subjectDataRoutes(api, subjectData);
  contactRoutes(api, { patients, templates, events, assertTenantActive: (tenantId) => keys.tenantKey(tenantId) });

  const app = serviceHttpApp('records', deps, [api]);

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
