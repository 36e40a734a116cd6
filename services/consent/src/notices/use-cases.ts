// Privacy-notice use-cases: publish a version (the newest is current), record an
// acknowledgement in person, or send the notice by email — consent publishes
// `consent.notice.requested` with the link's path and messaging emails it — and the
// public page behind the link: shows the notice, and acknowledges it once (404 unknown or
// used, 410 expired).
import { problems, randomId, randomToken, sha256 } from '@praxis/platform';
import type { Caller } from '../common/caller';
import type { Events } from '../common/events';
import type { KnownPatientRepository } from '../patients/model';
import { requirePatient } from '../patients/use-cases';
import { type NoticeAckDoc, type NoticeRepository, type NoticeVersionDoc, ackIdOfRequest } from './model';
import type { PracticeNameOf } from './practices';

export interface NoticeDeps {
  notices: NoticeRepository;
  patients: KnownPatientRepository;
  events: Events;
  linkTtlMs: number;
  /** The practice's display name (practices.ts); undefined when not known. */
  practiceName: PracticeNameOf;
}

export const ACK_PATH = '/privacy-notices/ack/';

const versionView = (v: NoticeVersionDoc, current: boolean) => ({
  version: v.version,
  text: v.text,
  createdAt: v.createdAt.toISOString(),
  current,
});

export async function createNoticeVersion(deps: NoticeDeps, caller: Caller, input: { version: string; text: string }) {
  const doc: NoticeVersionDoc = {
    _id: randomId('nv'),
    tenantId: caller.tenantId,
    version: input.version,
    text: input.text,
    createdBy: caller.actor.id,
    createdAt: new Date(),
  };
  const created = await deps.notices.createVersion(doc, [
    deps.events.make(caller, 'consent.notice-version.created', { noticeVersion: input.version }),
  ]);
  if (!created) throw problems.conflict('This notice version exists already.');
  deps.events.written();
  return versionView(doc, true);
}

export async function listNoticeVersions(deps: NoticeDeps, caller: Caller) {
  const versions = await deps.notices.listVersions(caller.tenantId);
  return { items: versions.map((v, i) => versionView(v, i === 0)) };
}

export async function giveNotice(
  deps: NoticeDeps,
  caller: Caller,
  patientId: string,
  input: { noticeVersion: string; method: 'in_person' | 'email' },
) {
  await requirePatient(deps.patients, caller.tenantId, patientId);
  const version = await deps.notices.findVersion(caller.tenantId, input.noticeVersion);
  if (!version)
    throw problems.badRequest('No such notice version in this practice.', [
      { path: 'body.noticeVersion', message: 'not a notice version of this practice' },
    ]);
  const now = new Date();
  if (input.method === 'in_person') {
    const ack: NoticeAckDoc = {
      _id: randomId('ack'),
      tenantId: caller.tenantId,
      patientId,
      noticeVersion: version.version,
      method: 'in_person',
      recordedBy: caller.actor.id,
      acknowledgedAt: now,
    };
    await deps.notices.acknowledge(ack, [
      deps.events.make(
        caller,
        'consent.notice.acknowledged',
        { patientId, noticeVersion: version.version, method: 'in_person' },
        patientId,
      ),
    ]);
    deps.events.written();
    return {
      id: ack._id,
      patientId,
      noticeVersion: version.version,
      method: 'in_person' as const,
      status: 'acknowledged' as const,
      acknowledgedAt: now.toISOString(),
    };
  }
  const token = randomToken(32);
  const id = randomId('nr');
  const expiresAt = new Date(now.getTime() + deps.linkTtlMs);
  await deps.notices.createRequest(
    {
      _id: id,
      tenantId: caller.tenantId,
      patientId,
      noticeVersion: version.version,
      tokenHash: sha256(token),
      requestedBy: caller.actor.id,
      createdAt: now,
      expiresAt,
    },
    [
      deps.events.make(
        caller,
        'consent.notice.requested',
        { noticeRequestId: id, patientId, noticeVersion: version.version, ackPath: `${ACK_PATH}${token}` },
        patientId,
      ),
    ],
  );
  deps.events.written();
  return {
    id,
    patientId,
    noticeVersion: version.version,
    method: 'email' as const,
    status: 'sent' as const,
    expiresAt: expiresAt.toISOString(),
  };
}

async function openLink(deps: NoticeDeps, token: string) {
  const request = await deps.notices.findRequestByTokenHash(sha256(token));
  if (!request) throw problems.notFound('No such link.');
  if (await deps.notices.ackOfRequest(request.tenantId, request._id)) throw problems.notFound('No such link.');
  if (request.expiresAt.getTime() <= Date.now()) throw problems.gone('This link has expired.');
  // A patient erased meanwhile: the link is gone with them.
  if (!(await deps.patients.exists(request.tenantId, request.patientId))) throw problems.notFound('No such link.');
  return request;
}

export async function showNotice(deps: NoticeDeps, token: string) {
  const request = await openLink(deps, token);
  const version = await deps.notices.findVersion(request.tenantId, request.noticeVersion);
  if (!version) throw problems.notFound('No such link.');
  return {
    practice: (await deps.practiceName(request.tenantId)) ?? (await deps.patients.practiceSlug(request.tenantId)) ?? request.tenantId,
    version: version.version,
    text: version.text,
    expiresAt: request.expiresAt.toISOString(),
  };
}

export async function acknowledgeByLink(deps: NoticeDeps, token: string) {
  const request = await openLink(deps, token);
  const now = new Date();
  const patient = { tenantId: request.tenantId, actor: { kind: 'patient' as const, id: request.patientId } };
  const first = await deps.notices.acknowledge(
    {
      _id: ackIdOfRequest(request._id),
      tenantId: request.tenantId,
      patientId: request.patientId,
      noticeVersion: request.noticeVersion,
      method: 'email',
      requestId: request._id,
      acknowledgedAt: now,
    },
    [
      deps.events.make(
        patient,
        'consent.notice.acknowledged',
        { patientId: request.patientId, noticeVersion: request.noticeVersion, method: 'email' },
        request.patientId,
      ),
    ],
  );
  // Two clicks racing: the unique ack id lets exactly one through.
  if (!first) throw problems.notFound('No such link.');
  deps.events.written();
  return { acknowledged: true, version: request.noticeVersion, acknowledgedAt: now.toISOString() };
}

/** A patient's notices: acknowledgements, and emailed links still waiting (or expired). */
export async function noticesOf(deps: Pick<NoticeDeps, 'notices'>, tenantId: string, patientId: string) {
  const [acks, requests] = await Promise.all([deps.notices.acksOf(tenantId, patientId), deps.notices.requestsOf(tenantId, patientId)]);
  const used = new Set(acks.map((a) => a.requestId).filter(Boolean));
  const now = Date.now();
  return [
    ...acks.map((a) => ({
      noticeVersion: a.noticeVersion,
      method: a.method,
      status: 'acknowledged' as const,
      at: a.acknowledgedAt.toISOString(),
    })),
    ...requests
      .filter((r) => !used.has(r._id))
      .map((r) => ({
        noticeVersion: r.noticeVersion,
        method: 'email' as const,
        status: r.expiresAt.getTime() <= now ? ('expired' as const) : ('sent' as const),
        at: r.createdAt.toISOString(),
        expiresAt: r.expiresAt.toISOString(),
      })),
  ].sort((a, b) => a.at.localeCompare(b.at));
}
