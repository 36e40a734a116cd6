// Data-subject rights, messaging's part (the participant contract in docs/messaging.md):
// - export: every message and direct message held about the patient, decrypted;
// - erasure (consent.erasure-request.created): queued messages are blocked (reason
//   `erased`, credits refunded), the patient's messaging data key is destroyed
//   (crypto-shredding), the documents are deleted, and a tombstone publishes
//   `messaging.patient.erased` with counts only. Resumable from the tombstone.
// - privacy notices (consent.notice.requested): an email to the patient with the link.
import type { Actor, EventEnvelope } from '@praxis/contracts';
import { type Logger, makeEvent, problems } from '@praxis/platform';
import type { Caller } from '../common/caller';
import type { DirectMessageRepository } from '../direct-messages/model';
import type { KeyService } from '../keys/key-service';
import { type MessageRepository, toMessage } from '../messages/model';
import { type MessageDeps, queueMessage } from '../messages/use-cases';
import type { PreferenceRepository } from '../preferences/model';
import type { ErasureRepository } from './model';
import type { PracticeDirectory } from './practices';

export interface SubjectDataDeps extends MessageDeps {
  messages: MessageRepository;
  directMessages: DirectMessageRepository;
  preferences: PreferenceRepository;
  keys: KeyService;
  erasures: ErasureRepository;
  /** Whether this deployment's auth knows a practice (./practices.ts). */
  knownPractice: PracticeDirectory;
  publicUrl: string;
  logger: Logger;
}

/** A practice of this deployment: messaging holds its key, or its auth knows it (./practices.ts). */
export async function holdsPractice(deps: Pick<SubjectDataDeps, 'keys' | 'knownPractice'>, tenantId: string): Promise<boolean> {
  return (await deps.keys.holdsTenant(tenantId)) || (await deps.knownPractice(tenantId));
}

export async function exportPatient(deps: SubjectDataDeps, tenantId: string, actor: Actor, patientId: string, requestId?: string) {
  const docs = await deps.messages.allForPatient(tenantId, patientId);
  const dms = await deps.directMessages.allForPatient(tenantId, patientId);
  const messages = [];
  for (const d of docs) {
    const content = d.sealed.body.ct && d.status !== 'blocked' ? await deps.messages.content(d).catch(() => undefined) : undefined;
    messages.push({
      ...toMessage(d),
      purpose: d.purpose,
      ...(content ? { to: content.to, ...(content.subject !== undefined ? { subject: content.subject } : {}), body: content.body } : {}),
    });
  }
  const directMessages = [];
  for (const d of dms) {
    const o = await deps.directMessages.open(d).catch(() => undefined);
    directMessages.push({
      id: d._id,
      createdAt: d.createdAt.toISOString(),
      expiresAt: d.expiresAt.toISOString(),
      practice: d.practice,
      ...(o ? { subject: o.subject, body: o.body } : {}),
    });
  }
  await deps.events.recordAccess([
    makeEvent({
      type: 'messaging.patient.exported',
      tenantId,
      actor,
      subject: { patientId },
      data: { patientId, ...(requestId ? { requestId } : {}) },
    }),
  ]);
  return { service: 'messaging' as const, patientId, messages, directMessages, generatedAt: new Date().toISOString() };
}

export async function erasePatient(
  deps: SubjectDataDeps,
  tenantId: string,
  actor: Actor,
  patientId: string,
  erasureId: string,
): Promise<{ messages: number; directMessages: number }> {
  let tomb = await deps.erasures.find(tenantId, erasureId);
  if (tomb && tomb.patientId !== patientId) throw problems.conflict('This erasure id was used for another patient.');
  if (!tomb) {
    const docs = await deps.messages.allForPatient(tenantId, patientId);
    const dms = await deps.directMessages.allForPatient(tenantId, patientId);
    // Messages still waiting are not sent: blocked, with their credits back.
    for (const d of docs.filter((x) => x.status === 'queued' || x.status === 'sending')) {
      const blocked = makeEvent({
        type: 'messaging.message.blocked',
        tenantId,
        actor,
        subject: { patientId },
        data: { messageId: d._id, channel: d.channel, reason: 'erased' },
      });
      if (
        await deps.messages.transition(
          tenantId,
          d._id,
          ['queued', 'sending'],
          { status: 'blocked', reason: 'erased', failedAt: new Date() },
          [blocked],
        )
      ) {
        if (d.credits) await deps.credits.refund(tenantId, d._id);
      }
    }
    const carried: EventEnvelope[] = await deps.messages.pendingEvents(tenantId, patientId);
    tomb = await deps.erasures.begin({ tenantId, erasureId, patientId, actor, messages: docs.length, directMessages: dms.length }, carried);
  }
  if (tomb.status !== 'completed') {
    await deps.keys.destroyPatientKeys(tenantId, patientId); // crypto-shred first
    await deps.messages.deleteForPatient(tenantId, patientId);
    await deps.directMessages.deleteForPatient(tenantId, patientId);
    await deps.preferences.deleteForPatient(tenantId, patientId);
    const erased = makeEvent({
      type: 'messaging.patient.erased',
      tenantId,
      actor,
      subject: { patientId },
      data: { erasureId, patientId, messages: tomb.messages, directMessages: tomb.directMessages },
    });
    await deps.erasures.complete(tenantId, erasureId, [erased]);
    deps.events.written();
    deps.logger.info({ erasureId, messageCount: tomb.messages, directMessageCount: tomb.directMessages }, 'patient erased');
  }
  return { messages: tomb.messages, directMessages: tomb.directMessages };
}

/** Email the patient the link to a privacy notice (consent.notice.requested). */
export async function sendPrivacyNotice(
  deps: SubjectDataDeps,
  caller: Caller,
  data: { noticeRequestId: string; patientId: string; noticeVersion: string; ackPath: string },
): Promise<void> {
  const link = `${deps.publicUrl.replace(/\/$/, '')}/#${data.ackPath}`;
  const id = `ntc_${data.noticeRequestId.replace(/[^A-Za-z0-9_-]/g, '')}`.slice(0, 64);
  if (await deps.messages.find(caller.tenantId, id)) return; // already queued (a redelivery)
  try {
    await queueMessage(
      deps,
      caller,
      {
        patientId: data.patientId,
        channel: 'email',
        subject: 'How your practice uses your information',
        body: `<p>Your practice has a privacy notice for you (version ${data.noticeVersion.replace(/[<>&"']/g, '')}).</p><p><a href="${link}">Read it and confirm you have seen it</a>.</p>`,
      },
      { id, purpose: 'privacy-notice', checkPreferences: false },
    );
  } catch (err) {
    // No email on record, or the patient is gone: nothing to send, nothing to retry.
    if (err instanceof Error && 'status' in err && (err as { status: number }).status < 500) {
      deps.logger.warn({ noticeRequestId: data.noticeRequestId, status: (err as { status: number }).status }, 'privacy notice not sent');
      return;
    }
    throw err;
  }
}
