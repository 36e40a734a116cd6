// Note routes. Reading needs `note:read`, writing and amending `note:write`: receptionists
// have neither (403 on every note route). Amend with POST …/amendments, or PUT on the note;
// both append a version, neither overwrites.
import { type ApiRouter, humanText, pageQuery } from '@praxis/platform';
import { z } from 'zod';
import { callerOf } from '../common/caller';
import { idParam } from '../common/http';
import { type NoteDeps, amendNote, listNotes, noteHistory, readNote, writeNote } from './use-cases';

const title = humanText({ max: 200 });
/** Free text over several lines: newlines and tabs fine, bidi overrides and zero-width characters not. */
const body = humanText({ max: 100_000, multiline: true });
const noteResponse = z.object({
  id: z.string(),
  patientId: z.string(),
  title: z.string(),
  body: z.string(),
  authorId: z.string(),
  createdAt: z.string(),
  version: z.number().int(),
  updatedBy: z.string(),
  updatedAt: z.string(),
});
const versionResponse = z.object({
  version: z.number().int(),
  title: z.string(),
  body: z.string(),
  authorId: z.string(),
  createdAt: z.string(),
  reason: z.string().optional(),
});
const amendment = z.strictObject({
  title,
  body,
  reason: z.string().trim().min(1).max(500).optional(),
  expectedVersion: z.number().int().min(1).optional().describe('When given, 409 unless it is the latest version'),
});

export function noteRoutes(api: ApiRouter, deps: NoteDeps): void {
  const tags = ['notes'];
  const patientParams = z.strictObject({ id: idParam });
  const noteParams = z.strictObject({ id: idParam, noteId: idParam });
  const notFound = { 404: 'No such patient or note in this practice' };

  api.route(
    {
      method: 'post',
      path: '/patients/:id/notes',
      summary: 'Write a clinical note',
      tags,
      auth: { permission: 'note:write' },
      params: patientParams,
      body: z.strictObject({ title, body }),
      status: 201,
      response: noteResponse,
      errors: notFound,
    },
    ({ auth, params, body: b }) => writeNote(deps, callerOf(auth), params.id, b),
  );
  api.route(
    {
      method: 'get',
      path: '/patients/:id/notes',
      summary: "A patient's notes, each at its latest version (the read is recorded)",
      tags,
      auth: { permission: 'note:read' },
      params: patientParams,
      query: z.strictObject(pageQuery),
      response: z.object({ items: z.array(noteResponse), next: z.string().optional() }),
      errors: notFound,
    },
    ({ auth, params, query }) => listNotes(deps, callerOf(auth), params.id, query),
  );
  api.route(
    {
      method: 'get',
      path: '/patients/:id/notes/:noteId',
      summary: 'One note at its latest version (the read is recorded)',
      tags,
      auth: { permission: 'note:read' },
      params: noteParams,
      response: noteResponse,
      errors: notFound,
    },
    ({ auth, params }) => readNote(deps, callerOf(auth), params.id, params.noteId),
  );
  api.route(
    {
      method: 'post',
      path: '/patients/:id/notes/:noteId/amendments',
      summary: 'Amend a note: appends a new version (the earlier ones stay readable in the history)',
      tags,
      auth: { permission: 'note:write' },
      params: noteParams,
      body: amendment,
      status: 201,
      response: noteResponse,
      errors: { ...notFound, 409: '`expectedVersion` is not the latest version' },
    },
    ({ auth, params, body: b }) => amendNote(deps, callerOf(auth), params.id, params.noteId, b, b.expectedVersion),
  );
  api.route(
    {
      method: 'put',
      path: '/patients/:id/notes/:noteId',
      summary: 'Amend a note (same as POST …/amendments): a new version, never an overwrite',
      tags,
      auth: { permission: 'note:write' },
      params: noteParams,
      body: amendment,
      response: noteResponse,
      errors: { ...notFound, 409: '`expectedVersion` is not the latest version' },
    },
    ({ auth, params, body: b }) => amendNote(deps, callerOf(auth), params.id, params.noteId, b, b.expectedVersion),
  );
  api.route(
    {
      method: 'get',
      path: '/patients/:id/notes/:noteId/versions',
      summary: 'Every version of a note, oldest first (the read is recorded)',
      tags,
      auth: { permission: 'note:read' },
      params: noteParams,
      response: z.object({ items: z.array(versionResponse) }),
      errors: notFound,
    },
    ({ auth, params }) => noteHistory(deps, callerOf(auth), params.id, params.noteId),
  );
}
