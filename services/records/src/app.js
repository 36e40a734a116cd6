"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.buildRecords = buildRecords;
// Builds the records service from its dependencies (main.ts passes the real ones; tests
// build it the same way with their own database, bus and token issuer).
const platform_1 = require("@praxis/platform");
const events_1 = require("./common/events");
const key_service_1 = require("./keys/key-service");
const model_1 = require("./keys/model");
const model_2 = require("./notes/model");
const routes_1 = require("./notes/routes");
const model_3 = require("./patients/model");
const routes_2 = require("./patients/routes");
const consumers_1 = require("./subject-data/consumers");
const model_4 = require("./subject-data/model");
const routes_3 = require("./subject-data/routes");
const model_5 = require("./templates/model");
const routes_4 = require("./templates/routes");
const routes_5 = require("./contact/routes");
async function buildRecords(deps) {
    const keyRepo = new model_1.KeyRepository((0, model_1.keyModels)(deps.mongo));
    const keys = new key_service_1.KeyService(keyRepo, new platform_1.KekRing(deps.keks));
    const Patient = (0, model_3.patientModel)(deps.mongo);
    const Note = (0, model_2.noteModel)(deps.mongo);
    const Template = (0, model_5.templateModel)(deps.mongo);
    const tombstones = (0, model_4.tombstoneModels)(deps.mongo);
    // Documents that get events after their insert are updated one writer at a time.
    const serial = new platform_1.KeyedSerialiser();
    const patientCol = (0, platform_1.serialisedCollection)(Patient.collection, serial);
    const erasureCol = (0, platform_1.serialisedCollection)(tombstones.Erasure.collection, serial);
    const purgeCol = (0, platform_1.serialisedCollection)(tombstones.TenantPurge.collection, serial);
    const patients = new model_3.PatientRepository(Patient, keys, patientCol);
    const notes = new model_2.NoteRepository(Note, keys);
    const templates = new model_5.TemplateRepository(Template);
    const tombstoneRepo = new model_4.TombstoneRepository(tombstones, { erasures: erasureCol, purges: purgeCol });
    const relay = new platform_1.OutboxRelay({
        bus: deps.bus,
        logger: deps.logger,
        metrics: deps.metrics,
        conn: deps.mongo,
        collections: [patientCol, Note.collection, Template.collection, erasureCol, purgeCol],
        intervalMs: deps.relayIntervalMs ?? 250,
    });
    const idempotency = new platform_1.MongoIdempotencyStore(deps.mongo);
    // Unique indexes matter for correctness (refs, keys, tombstones): build them before serving.
    for (const model of Object.values(deps.mongo.models))
        await model.createIndexes();
    await relay.init();
    await idempotency.init();
    const events = new events_1.Events(deps.mongo, relay);
    const subjectData = { patients, notes, templates, keys, tombstones: tombstoneRepo, events, logger: deps.logger };
    const api = new platform_1.ApiRouter(deps.authenticator);
    (0, routes_2.patientRoutes)(api, { patients, events });
    (0, routes_1.noteRoutes)(api, { patients, notes, events });
    (0, routes_4.templateRoutes)(api, { patients, templates, events, assertTenantActive: (tenantId) => keys.tenantKey(tenantId) });
    (0, routes_3.subjectDataRoutes)(api, subjectData);
    (0, routes_5.contactRoutes)(api, { patients, templates, events, assertTenantActive: (tenantId) => keys.tenantKey(tenantId) });
    const app = (0, platform_1.createHttpApp)({ service: 'records', logger: deps.logger, metrics: deps.metrics, readiness: deps.readiness ?? {}, routers: [api] });
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
            await (0, consumers_1.startSubjectDataConsumers)(deps.bus, idempotency, subjectData, deps.consumerPrefix ?? '');
        },
        async stop() {
            await relay.stop();
        },
    };
}
//# sourceMappingURL=app.js.map