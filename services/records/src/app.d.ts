import { type Authenticator, type Bus, type KekConfig, type Logger, type Metrics, OutboxRelay } from '@praxis/platform';
import type { Express } from 'express';
import type { Connection } from 'mongoose';
import { KeyService } from './keys/key-service';
import { NoteRepository } from './notes/model';
import { PatientRepository } from './patients/model';
import type { SubjectDataDeps } from './subject-data/use-cases';
import { TemplateRepository } from './templates/model';
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
export declare function buildRecords(deps: RecordsDeps): Promise<Records>;
//# sourceMappingURL=app.d.ts.map