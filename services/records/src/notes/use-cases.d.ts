import type { Caller } from '../common/caller';
import type { Events } from '../common/events';
import { type Page } from '../common/http';
import type { PatientRepository } from '../patients/model';
import { type Note, type NoteContent, type NoteRepository, type NoteVersion } from './model';
export interface NoteDeps {
    patients: PatientRepository;
    notes: NoteRepository;
    events: Events;
}
export declare function writeNote(deps: NoteDeps, caller: Caller, patientId: string, content: NoteContent): Promise<Note>;
export declare function amendNote(deps: NoteDeps, caller: Caller, patientId: string, noteId: string, content: NoteContent & {
    reason?: string;
}, expectedVersion?: number): Promise<Note>;
export declare function readNote(deps: NoteDeps, caller: Caller, patientId: string, noteId: string): Promise<Note>;
export declare function listNotes(deps: NoteDeps, caller: Caller, patientId: string, q: {
    limit: number;
    cursor?: string;
}): Promise<Page<Note>>;
export declare function noteHistory(deps: NoteDeps, caller: Caller, patientId: string, noteId: string): Promise<{
    items: NoteVersion[];
}>;
//# sourceMappingURL=use-cases.d.ts.map