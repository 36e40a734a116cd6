// Note use-cases. Reading notes is clinical access: every read (one note, the list, the
// history) is recorded before the answer. Amending appends a version; nothing is replaced.
import { problems, type Page, decodeCursor, pageOf } from '@praxis/platform';
import type { Caller } from '../common/caller';
import type { Events } from '../common/events';
import type { PatientRepository } from '../patients/model';
import { type Note, type NoteContent, type NoteRepository, type NoteVersion, newNoteId } from './model';

export interface NoteDeps {
  patients: PatientRepository;
  notes: NoteRepository;
  events: Events;
}

async function patientOrNotFound(deps: NoteDeps, caller: Caller, patientId: string) {
  const located = await deps.patients.locate(caller.tenantId, patientId, caller);
  if (!located) throw problems.notFound('No such patient.');
  return located;
}

export async function writeNote(deps: NoteDeps, caller: Caller, patientId: string, content: NoteContent): Promise<Note> {
  const { keyId } = await patientOrNotFound(deps, caller, patientId);
  const id = newNoteId();
  const event = deps.events.make(caller, 'records.note.created', { patientId, noteId: id, version: 1 }, patientId);
  const note = await deps.notes.create(caller.tenantId, patientId, keyId, id, caller.authorId, content, [event]);
  deps.events.written();
  return note;
}

export async function amendNote(
  deps: NoteDeps,
  caller: Caller,
  patientId: string,
  noteId: string,
  content: NoteContent & { reason?: string },
  expectedVersion?: number,
): Promise<Note> {
  await patientOrNotFound(deps, caller, patientId);
  const result = await deps.notes.amend(caller.tenantId, patientId, noteId, caller.authorId, content, expectedVersion, (version) => [
    deps.events.make(caller, 'records.note.amended', { patientId, noteId, version }, patientId),
  ]);
  if ('notFound' in result) throw problems.notFound('No such note.');
  if ('conflict' in result) throw problems.conflict(`The note is at version ${result.conflict}; amend the latest version.`);
  deps.events.written();
  return result.note;
}

export async function readNote(deps: NoteDeps, caller: Caller, patientId: string, noteId: string): Promise<Note> {
  await patientOrNotFound(deps, caller, patientId);
  const note = await deps.notes.findById(caller.tenantId, patientId, noteId);
  if (!note) throw problems.notFound('No such note.');
  await deps.events.recordAccess([deps.events.make(caller, 'records.note.viewed', { patientId, noteId }, patientId)]);
  return note;
}

export async function listNotes(
  deps: NoteDeps,
  caller: Caller,
  patientId: string,
  q: { limit: number; cursor?: string },
): Promise<Page<Note>> {
  await patientOrNotFound(deps, caller, patientId);
  const after = decodeCursor(q.cursor);
  const rows = await deps.notes.list(caller.tenantId, patientId, { ...(after ? { after } : {}), limit: q.limit + 1 });
  const page = pageOf(rows, q.limit, (item) => item.id);
  await deps.events.recordAccess([deps.events.make(caller, 'records.note.viewed', { patientId }, patientId)]);
  return page;
}

export async function noteHistory(deps: NoteDeps, caller: Caller, patientId: string, noteId: string): Promise<{ items: NoteVersion[] }> {
  await patientOrNotFound(deps, caller, patientId);
  const versions = await deps.notes.versions(caller.tenantId, patientId, noteId);
  if (!versions) throw problems.notFound('No such note.');
  await deps.events.recordAccess([deps.events.make(caller, 'records.note.viewed', { patientId, noteId }, patientId)]);
  return { items: versions };
}
