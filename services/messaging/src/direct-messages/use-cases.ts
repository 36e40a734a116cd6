// Direct messages (docs/messaging.md, "Direct messages"): staff write a message that is
// stored sealed; the patient gets an email with a link (`/#/dm/<token>`) and a text with a
// 6-digit access code, both through the normal message path. The link shows the practice
// and the subject only; the body needs the code. Five wrong codes lock it (423); after the
// expiry (DM_TTL_DAYS, 7 by default) it is gone (410). Every open, unlock, wrong code and
// lock is an audited event, stored before the answer.
import { type Actor, type EventEnvelope, problemTypes } from '@praxis/contracts';
import { ProblemError, constantTimeEqual, makeEvent, problems, randomToken, sha256 } from '@praxis/platform';
import { randomInt } from 'node:crypto';
import type { Caller } from '../common/caller';
import { type MessageDeps, queueMessage } from '../messages/use-cases';
import { MAX_WRONG_CODES, type DirectMessageDoc, type DirectMessageRepository, newDirectMessageId } from './model';

export interface PracticeNames {
  /** The practice's display name, asked of auth with the caller's own token. */
  nameOf(tenantId: string, bearerToken: string): Promise<string>;
}

export interface DirectMessageDeps extends MessageDeps {
  directMessages: DirectMessageRepository;
  practices: PracticeNames;
  publicUrl: string;
  ttlDays: number;
}

const patientActor = (dmId: string): Actor => ({ kind: 'patient', id: dmId });
const gone = () => new ProblemError(410, 'urn:praxis:problem:gone', 'Gone', 'This message has expired.');
const locked = () =>
  new ProblemError(423, problemTypes.locked, 'Locked', 'Too many wrong codes: ask the practice to send the message again.');

export async function createDirectMessage(
  deps: DirectMessageDeps,
  caller: Caller,
  bearerToken: string,
  input: { patientId: string; subject: string; body: string },
): Promise<{ id: string; expiresAt: string }> {
  const contact = await deps.records.contact(caller.tenantId, input.patientId);
  if (!contact) throw problems.notFound('No such patient.');
  if (!contact.email || !contact.mobile)
    throw problems.unprocessable('A direct message needs the patient’s email address (for the link) and mobile number (for the code).');
  const practice = await deps.practices.nameOf(caller.tenantId, bearerToken);
  const id = newDirectMessageId();
  const token = randomToken(32);
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const expiresAt = new Date(Date.now() + deps.ttlDays * 86_400_000);
  const created = makeEvent({
    type: 'messaging.direct-message.created',
    tenantId: caller.tenantId,
    actor: caller.actor,
    subject: { patientId: input.patientId },
    data: { directMessageId: id, patientId: input.patientId },
  });
  await deps.directMessages.create(
    caller.tenantId,
    {
      id,
      patientId: input.patientId,
      tokenHash: sha256(token),
      practice,
      subject: input.subject,
      body: input.body,
      code,
      createdBy: caller.actor.id,
      expiresAt,
    },
    [created],
  );
  deps.events.written();
  const link = `${deps.publicUrl.replace(/\/$/, '')}/#/dm/${token}`;
  // The code first: without SMS credit (402) nothing is emailed.
  await queueMessage(
    deps,
    caller,
    {
      patientId: input.patientId,
      channel: 'sms',
      body: `${practice}: your access code is ${code}. It opens the secure message we emailed you.`,
    },
    { purpose: 'dm-code', directMessageId: id, checkPreferences: false },
  );
  await queueMessage(
    deps,
    caller,
    {
      patientId: input.patientId,
      channel: 'email',
      subject: `${practice} sent you a secure message`,
      body: `<p>${escape(practice)} sent you a secure message.</p><p><a href="${escape(link)}">Read it here</a>; you will need the 6-digit code we texted to you. The link works until ${expiresAt.toISOString().slice(0, 10)}.</p>`,
    },
    { purpose: 'dm-link', directMessageId: id, checkPreferences: false },
  );
  return { id, expiresAt: expiresAt.toISOString() };
}

function escape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

async function find(deps: DirectMessageDeps, token: string): Promise<DirectMessageDoc> {
  const doc = await deps.directMessages.byTokenHash(sha256(token));
  if (!doc) throw problems.notFound('No such message.');
  if (doc.expiresAt.getTime() <= Date.now()) throw gone();
  return doc;
}

export async function viewDirectMessage(
  deps: DirectMessageDeps,
  token: string,
): Promise<{ practice: string; subject: string; expiresAt: string }> {
  const doc = await find(deps, token);
  if ((await deps.directMessages.failures(doc._id)) >= MAX_WRONG_CODES) throw locked();
  const dm = await deps.directMessages.open(doc);
  await deps.events.recordAccess([
    makeEvent({
      type: 'messaging.direct-message.opened',
      tenantId: doc.tenantId,
      actor: patientActor(doc._id),
      subject: { patientId: doc.patientId },
      data: { directMessageId: doc._id },
    }),
  ]);
  return { practice: dm.practice, subject: dm.subject, expiresAt: dm.expiresAt.toISOString() };
}

export async function unlockDirectMessage(
  deps: DirectMessageDeps,
  token: string,
  code: string,
): Promise<{ practice: string; subject: string; body: string }> {
  const doc = await find(deps, token);
  const base = { tenantId: doc.tenantId, actor: patientActor(doc._id), subject: { patientId: doc.patientId } };
  if ((await deps.directMessages.failures(doc._id)) >= MAX_WRONG_CODES) throw locked();
  const dm = await deps.directMessages.open(doc);
  if (!constantTimeEqual(code, dm.code)) {
    const failures = await deps.directMessages.recordFailure(doc._id);
    const events: EventEnvelope[] = [
      makeEvent({ ...base, type: 'messaging.direct-message.unlock-failed', data: { directMessageId: doc._id, failures } }),
    ];
    if (failures >= MAX_WRONG_CODES)
      events.push(makeEvent({ ...base, type: 'messaging.direct-message.locked', data: { directMessageId: doc._id } }));
    await deps.events.recordAccess(events);
    if (failures >= MAX_WRONG_CODES) throw locked();
    throw problems.unauthenticated(`Wrong code (${MAX_WRONG_CODES - failures} tries left).`);
  }
  await deps.events.recordAccess([makeEvent({ ...base, type: 'messaging.direct-message.unlocked', data: { directMessageId: doc._id } })]);
  return { practice: dm.practice, subject: dm.subject, body: dm.body };
}
