import type { EventEnvelope } from '@praxis/contracts';
import { type SealedValue } from '@praxis/platform';
import mongoose, { type Connection, type Model } from 'mongoose';
import type { KeyService } from '../keys/key-service';
export interface NoteVersion {
    version: number;
    title: string;
    body: string;
    authorId: string;
    createdAt: string;
    reason?: string;
}
export interface Note {
    id: string;
    patientId: string;
    title: string;
    body: string;
    /** Who wrote the note first. */
    authorId: string;
    createdAt: string;
    /** The latest version's number, author and time. */
    version: number;
    updatedBy: string;
    updatedAt: string;
}
/**
 * One document per version, never updated: `_id` is `<noteId>:<version>`, so two
 * amendments racing for the same version number cannot both be stored (an insert with a
 * unique key is atomic everywhere; FerretDB's conditional updates are not).
 */
export interface NoteVersionDoc {
    _id: string;
    tenantId: string;
    patientId: string;
    noteId: string;
    version: number;
    keyId: string;
    title: SealedValue;
    body: SealedValue;
    reason?: SealedValue;
    authorId: string;
    createdAt: Date;
    /** The note's first author and creation time, repeated on every version. */
    noteAuthorId: string;
    noteCreatedAt: Date;
}
export declare function noteModel(conn: Connection): Model<NoteVersionDoc>;
export declare const newNoteId: () => string;
export interface NoteContent {
    title: string;
    body: string;
}
export declare class NoteRepository {
    private readonly model;
    private readonly keys;
    constructor(model: Model<NoteVersionDoc>, keys: KeyService);
    get collection(): mongoose.Collection<mongoose.mongo.BSON.Document>;
    create(tenantId: string, patientId: string, patientKeyId: string, id: string, authorId: string, content: NoteContent, events: EventEnvelope[]): Promise<Note>;
    /**
     * Append a new version. `expectedVersion` (when given) must be the latest, else
     * `conflict`; without it the amendment goes on top of whatever is latest (retrying if
     * another amendment takes the next number first).
     */
    amend(tenantId: string, patientId: string, id: string, authorId: string, content: NoteContent & {
        reason?: string;
    }, expectedVersion: number | undefined, makeEvents: (version: number) => EventEnvelope[]): Promise<{
        note: Note;
    } | {
        notFound: true;
    } | {
        conflict: number;
    }>;
    findById(tenantId: string, patientId: string, id: string): Promise<Note | null>;
    /** Notes of a patient at their latest version, ordered by note id, paged by note id. */
    list(tenantId: string, patientId: string, page: {
        after?: string;
        limit: number;
    }): Promise<Note[]>;
    versions(tenantId: string, patientId: string, id: string): Promise<NoteVersion[] | null>;
    /** Every note of a patient with its full history (subject access export). */
    allWithHistory(tenantId: string, patientId: string): Promise<(Note & {
        versions: NoteVersion[];
    })[]>;
    /** How many notes, and how many stored versions (documents), a patient has. */
    countForPatient(tenantId: string, patientId: string): Promise<{
        notes: number;
        documents: number;
    }>;
    pendingEventsForPatient(tenantId: string, patientId: string): Promise<EventEnvelope[]>;
    deleteForPatient(tenantId: string, patientId: string): Promise<number>;
    pendingEventsForTenant(tenantId: string): Promise<EventEnvelope[]>;
    deleteAllForTenant(tenantId: string): Promise<number>;
    private latestDoc;
    private sealVersion;
    private openVersion;
    private toNote;
}
//# sourceMappingURL=model.d.ts.map