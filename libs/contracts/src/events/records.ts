// Events published by the records service.
import { z } from 'zod';
import { count, defineEvent, id } from './envelope';

export const recordsEvents = [
  defineEvent('records.patient.created', 1, z.strictObject({ patientId: id, test: z.boolean() }), 'A patient record was created.'),
  defineEvent(
    'records.patient.updated',
    1,
    z.strictObject({ patientId: id, fields: z.array(z.string().max(40)) }),
    'Demographics changed (names of the fields only).',
  ),
  defineEvent('records.patient.viewed', 1, z.strictObject({ patientId: id }), 'Someone read a patient record.'),
  defineEvent(
    'records.patient.searched',
    1,
    z.strictObject({ by: z.enum(['ref', 'familyName', 'all']), results: count }),
    'Someone searched the patient list.',
  ),
  defineEvent('records.note.created', 1, z.strictObject({ patientId: id, noteId: id, version: count }), 'A clinical note was written.'),
  defineEvent(
    'records.note.amended',
    1,
    z.strictObject({ patientId: id, noteId: id, version: count }),
    'A clinical note was amended (a new version).',
  ),
  defineEvent(
    'records.note.viewed',
    1,
    z.strictObject({ patientId: id, noteId: id.optional() }),
    'Someone read a note (or the list of notes) of a patient.',
  ),
  defineEvent('records.template.created', 1, z.strictObject({ templateId: id }), 'A message template was created.'),
  defineEvent('records.template.rendered', 1, z.strictObject({ templateId: id, patientId: id }), 'A template was rendered for a patient.'),
  defineEvent(
    'records.patient.exported',
    1,
    z.strictObject({ patientId: id, requestId: id.optional() }),
    'Records’ part of a subject access request was collated.',
  ),
  defineEvent(
    'records.patient.erased',
    1,
    z.strictObject({ erasureId: id, patientId: id, notes: count, documents: count }),
    'A patient was erased (crypto-shredded and deleted); counts only.',
  ),
  defineEvent('records.tenant.destroyed', 1, z.strictObject({ patients: count }), 'Records destroyed a purged practice’s data.'),
] as const;
