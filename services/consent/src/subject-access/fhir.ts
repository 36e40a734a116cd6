// A subject access export as a FHIR R4 Bundle of type `collection`: the Patient, a
// DocumentReference per note version (earlier versions `superseded`, each replacing the one
// before), a Consent per code and per preference version, a Communication per message and
// an AuditEvent per access-log entry, linked by `urn:uuid` references. Checked with the
// HL7 R4 validator in the end-to-end tests (test/e2e/consent.e2e.test.ts). Each entry is
// made from one item alone (ids are derived from the request id), so a download streams
// the bundle chunk by chunk: `bundleOpening`, then the entries of each item, in any order.
import { createHash } from 'node:crypto';
import type { ExportHead, SubjectAccessExport } from './export-chunks';

export type Resource = Record<string, unknown> & { resourceType: string };
type Json = Record<string, unknown>;
export interface Entry {
  fullUrl: string;
  resource: Resource;
}
type Subject = { reference: string };

/** A stable UUID (v5-like, SHA-1 based) per thing, so the same export gives the same bundle. */
function uuidFor(requestId: string, what: string): string {
  const h = createHash('sha1').update(`${requestId}|${what}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v : undefined);
const PRAXIS = 'urn:praxis';

function patientResource(p: Json): Resource {
  const address = p.address as Json | undefined;
  const telecom = [
    ...(str(p.mobile) ? [{ system: 'phone', value: p.mobile, use: 'mobile' }] : []),
    ...(str(p.email) ? [{ system: 'email', value: p.email }] : []),
  ];
  return {
    resourceType: 'Patient',
    identifier: [
      { system: `${PRAXIS}:patient-id`, value: p.id },
      ...(str(p.ref) ? [{ system: `${PRAXIS}:patient-ref`, value: p.ref }] : []),
    ],
    name: [{ family: p.familyName, given: [p.givenName] }],
    ...(telecom.length ? { telecom } : {}),
    ...(str(p.birthDate) ? { birthDate: p.birthDate } : {}),
    ...(address
      ? {
          address: [
            { line: [address.line1, ...(str(address.line2) ? [address.line2] : [])], city: address.city, postalCode: address.postcode },
          ],
        }
      : {}),
  };
}

const actorIdentifier = (actor: Json | undefined) => ({
  identifier: { system: `${PRAXIS}:actor:${str(actor?.kind) ?? 'user'}`, value: str(actor?.id) ?? 'unknown' },
});

function auditAction(type: string): string {
  if (/\.(created|recorded|requested|acknowledged)$/.test(type)) return 'C';
  if (/\.(updated|changed|amended)$/.test(type)) return 'U';
  if (/\.(erased|deleted)$/.test(type)) return 'D';
  if (/\.(viewed|searched|exported|downloaded|rendered)$/.test(type)) return 'R';
  return 'E';
}

const messageStatus: Record<string, string> = {
  queued: 'in-progress',
  sent: 'completed',
  delivered: 'completed',
  failed: 'stopped',
  blocked: 'not-done',
  cancelled: 'stopped',
};

const entry = (requestId: string, what: string, resource: Resource): Entry => ({
  fullUrl: `urn:uuid:${uuidFor(requestId, what)}`,
  resource,
});

/** The Bundle without its entries. */
export function bundleOpening(h: Pick<ExportHead, 'requestId' | 'generatedAt'>): Resource {
  return {
    resourceType: 'Bundle',
    identifier: { system: `${PRAXIS}:subject-access-request`, value: h.requestId },
    type: 'collection',
    timestamp: h.generatedAt,
  };
}

/** The reference every resource uses for the patient. */
export const subjectOf = (requestId: string): Subject => ({ reference: `urn:uuid:${uuidFor(requestId, 'patient')}` });

export function patientEntry(h: ExportHead): Entry {
  return entry(
    h.requestId,
    'patient',
    h.patient
      ? patientResource(h.patient)
      : { resourceType: 'Patient', identifier: [{ system: `${PRAXIS}:patient-id`, value: h.patientId }] },
  );
}

/** A DocumentReference per version of one note, each later one replacing the one before. */
export function noteEntries(requestId: string, note: Json): Entry[] {
  const subject = subjectOf(requestId);
  const versions = (note.versions as Json[] | undefined) ?? [];
  let previous: string | undefined;
  return versions.map((v, i) => {
    const latest = i === versions.length - 1;
    const version = Number(v.version);
    const e = entry(requestId, `note|${String(note.id)}|${version}`, {
      resourceType: 'DocumentReference',
      identifier: [{ system: `${PRAXIS}:note-version`, value: `${String(note.id)}:${version}` }],
      status: latest ? 'current' : 'superseded',
      docStatus: version > 1 ? 'amended' : 'final',
      type: { text: 'Clinical note' },
      subject,
      date: v.createdAt,
      author: [{ ...actorIdentifier({ kind: 'user', id: v.authorId }) }],
      description: v.title,
      ...(previous ? { relatesTo: [{ code: 'replaces', target: { reference: previous } }] } : {}),
      content: [
        {
          attachment: {
            contentType: 'text/plain; charset=utf-8',
            data: Buffer.from(String(v.body ?? ''), 'utf8').toString('base64'),
            title: v.title,
            creation: v.createdAt,
          },
        },
      ],
    });
    previous = e.fullUrl;
    return e;
  });
}

/** A Consent per code and per preference version (the newest active). */
export function consentEntries(h: ExportHead): Entry[] {
  const subject = subjectOf(h.requestId);
  const consent = h.consent as { codes?: Json[]; preferenceHistory?: Json[] };
  const consentBase = {
    resourceType: 'Consent',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }], text: 'Patient consent' }],
    patient: subject,
  };
  const out: Entry[] = [];
  for (const c of consent.codes ?? []) {
    const permit = c.kind === 'consent';
    out.push(
      entry(h.requestId, `code|${String(c.id)}`, {
        ...consentBase,
        status: 'active',
        dateTime: c.recordedAt,
        performer: [{ ...actorIdentifier({ kind: 'user', id: c.recordedBy }) }],
        policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: permit ? 'OPTIN' : 'OPTOUT' }] },
        provision: {
          type: permit ? 'permit' : 'deny',
          code: [{ coding: [{ system: c.system, code: c.code, display: c.display }], text: c.display }],
        },
      }),
    );
  }
  const history = consent.preferenceHistory ?? [];
  history.forEach((p, i) => {
    out.push(
      entry(h.requestId, `preference|${String(p.version)}`, {
        ...consentBase,
        status: i === history.length - 1 ? 'active' : 'inactive',
        dateTime: p.changedAt,
        performer: [{ ...actorIdentifier({ kind: 'user', id: p.changedBy }) }],
        policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
        identifier: [{ system: `${PRAXIS}:preference-version`, value: String(p.version) }],
        provision: {
          type: 'permit',
          provision: (['sms', 'email'] as const).map((channel) => ({
            type: p[channel] ? 'permit' : 'deny',
            code: [{ text: `contact by ${channel}` }],
          })),
        },
      }),
    );
  });
  return out;
}

export function messageEntry(requestId: string, m: Json, direct: boolean): Entry {
  return entry(requestId, `message|${String(m.id)}`, {
    resourceType: 'Communication',
    identifier: [{ system: `${PRAXIS}:${direct ? 'direct-message' : 'message'}`, value: String(m.id) }],
    status: direct ? 'completed' : (messageStatus[String(m.status)] ?? 'unknown'),
    subject: subjectOf(requestId),
    ...(str(m.channel) ? { medium: [{ text: String(m.channel) }] } : {}),
    ...(str(m.createdAt) ? { sent: m.createdAt } : {}),
    ...(str(m.subject) ? { topic: { text: m.subject } } : {}),
    ...(str(m.body) ? { payload: [{ contentString: m.body }] } : {}),
  });
}

export function accessEntry(requestId: string, e: Json): Entry {
  const actor = e.actor as Json | undefined;
  return entry(requestId, `access|${String(e.id)}`, {
    resourceType: 'AuditEvent',
    type: { system: `${PRAXIS}:event-type`, code: String(e.type) },
    action: auditAction(String(e.type)),
    recorded: e.occurredAt,
    agent: [{ who: actorIdentifier(actor), requestor: true }],
    source: {
      observer: { display: 'Praxis' },
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4' }],
    },
    entity: [{ what: subjectOf(requestId) }],
  });
}

/** The whole Bundle at once (small exports; downloads stream the same entries). */
export function toFhirBundle(x: SubjectAccessExport): Resource {
  return {
    ...bundleOpening(x),
    entry: [
      patientEntry(x),
      ...consentEntries(x),
      ...x.notes.flatMap((n) => noteEntries(x.requestId, n)),
      ...x.messages.map((m) => messageEntry(x.requestId, m, false)),
      ...x.directMessages.map((m) => messageEntry(x.requestId, m, true)),
      ...x.accessLog.map((e) => accessEntry(x.requestId, e)),
    ],
  };
}
