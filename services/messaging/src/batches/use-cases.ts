// Batch messages (docs/messaging.md, "Batches"): one request for up to 5,000 patients and a
// template. The request stores the batch and answers 202; the batch worker (consumer
// `messaging.batches`, fed by `messaging.batch.started`) expands it into one message per
// patient, each through the normal path — its own consent check and credit reservation —
// with the fixed id `<batch>-<n>`. A patient who opted out, has no contact or cannot be
// paid for gets a blocked or failed message instead. A crash mid-expansion is resumed by
// the redelivered event: patients that already have a message are skipped, so nobody is
// queued twice; the delivery worker's idempotency does the rest. Cancelling stops the
// expansion and blocks the batch's messages not yet sent.
import type { Actor } from '@praxis/contracts';
import { type Logger, ProblemError, makeEvent, problems } from '@praxis/platform';
import type { Caller } from '../common/caller';
import type { Channel } from '../messages/model';
import { type MessageDeps, queueMessage, recordUnsent } from '../messages/use-cases';
import { type BatchDoc, type BatchRepository, batchMessageId, newBatchId } from './model';

export const MAX_BATCH = 5_000;

export interface BatchDeps extends MessageDeps {
  batches: BatchRepository;
  logger: Logger;
  /** Patients expanded at once. */
  concurrency?: number;
}

export interface BatchView {
  id: string;
  status: 'running' | 'completed' | 'cancelled';
  channel: Channel;
  templateId: string;
  total: number;
  queued: number;
  sent: number;
  delivered: number;
  failed: number;
  blocked: number;
  createdAt: string;
}

export async function startBatch(
  deps: BatchDeps,
  caller: Caller,
  input: { channel: Channel; templateId: string; patientIds: string[]; variables?: Record<string, string> },
): Promise<{ id: string; status: 'running'; total: number }> {
  const patientIds = [...new Set(input.patientIds)];
  const id = newBatchId();
  const started = makeEvent({
    type: 'messaging.batch.started',
    tenantId: caller.tenantId,
    actor: caller.actor,
    data: { batchId: id, channel: input.channel, total: patientIds.length },
  });
  await deps.batches.create(
    {
      _id: id,
      tenantId: caller.tenantId,
      channel: input.channel,
      templateId: input.templateId,
      ...(input.variables ? { variables: input.variables } : {}),
      patientIds,
      total: patientIds.length,
      status: 'running',
      expanded: false,
      createdBy: caller.actor.id,
      actor: caller.actor,
      createdAt: new Date(),
    },
    [started],
  );
  deps.events.written();
  return { id, status: 'running', total: patientIds.length };
}

/** Turn the batch into messages (resumable; see the header). */
export async function expandBatch(deps: BatchDeps, tenantId: string, batchId: string): Promise<void> {
  const batch = await deps.batches.findWithPatients(tenantId, batchId);
  if (!batch || batch.expanded || batch.status !== 'running') return;
  const caller: Caller = { tenantId, actor: batch.actor as Actor };
  const concurrency = deps.concurrency ?? 8;
  let next = 0;
  let stop = false;
  const work = async () => {
    while (!stop) {
      const n = next++;
      if (n >= batch.patientIds.length) return;
      if (n % 100 === 0 && (await deps.batches.cancelled(tenantId, batchId))) {
        stop = true;
        return;
      }
      await expandOne(deps, caller, batch, n);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, work));
  if (stop) return;
  await deps.batches.markExpanded(tenantId, batchId);
  await completeIfDone(deps, tenantId, batchId);
}

async function expandOne(deps: BatchDeps, caller: Caller, batch: BatchDoc, n: number): Promise<void> {
  const id = batchMessageId(batch._id, n);
  if (await deps.messages.find(caller.tenantId, id)) return; // made before a crash
  const patientId = batch.patientIds[n]!;
  const input = {
    patientId,
    channel: batch.channel,
    templateId: batch.templateId,
    ...(batch.variables ? { variables: batch.variables } : {}),
  };
  try {
    // Records busy or briefly away (503/504) is worth a few quick retries here: the whole
    // batch event is redelivered only a few times before it is parked.
    for (let attempt = 0; ; attempt++) {
      try {
        await queueMessage(deps, caller, input, { id, batchId: batch._id });
        break;
      } catch (err) {
        if (!(err instanceof ProblemError) || err.status < 500 || attempt >= 6) throw err;
        await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
      }
    }
  } catch (err) {
    if (!(err instanceof ProblemError) || err.status >= 500) throw err;
    const reason = err.type.endsWith(':opted-out')
      ? 'opted-out'
      : err.status === 402
        ? 'no-credit'
        : err.status === 404
          ? 'no-patient'
          : err.status === 422
            ? 'no-contact'
            : 'invalid';
    await recordUnsent(deps, caller, input, id, err.status === 402 || reason === 'invalid' ? 'failed' : 'blocked', reason, batch._id);
  }
}

/** Mark the batch completed once every patient has a message in a final status. */
export async function completeIfDone(deps: BatchDeps, tenantId: string, batchId: string): Promise<void> {
  const batch = await deps.batches.find(tenantId, batchId);
  if (!batch || batch.status !== 'running' || !batch.expanded) return;
  const c = await deps.messages.countByStatus(tenantId, batchId);
  if (c.queued + c.sending > 0) return;
  const sent = c.sent + c.delivered;
  if (
    await deps.batches.finish(tenantId, batchId, 'completed', [
      makeEvent({
        type: 'messaging.batch.completed',
        tenantId,
        actor: batch.actor as Actor,
        data: { batchId, sent, failed: c.failed, blocked: c.blocked },
      }),
    ])
  )
    deps.events.written();
}

export async function viewBatch(deps: BatchDeps, caller: Caller, id: string): Promise<BatchView> {
  await completeIfDone(deps, caller.tenantId, id);
  const batch = await deps.batches.find(caller.tenantId, id);
  if (!batch) throw problems.notFound('No such batch.');
  const c = await deps.messages.countByStatus(caller.tenantId, id);
  return {
    id,
    status: batch.status,
    channel: batch.channel,
    templateId: batch.templateId,
    total: batch.total,
    queued: c.queued + c.sending,
    sent: c.sent + c.delivered,
    delivered: c.delivered,
    failed: c.failed,
    blocked: c.blocked,
    createdAt: new Date(batch.createdAt).toISOString(),
  };
}

export async function cancelBatch(deps: BatchDeps, caller: Caller, id: string): Promise<BatchView> {
  const batch = await deps.batches.find(caller.tenantId, id);
  if (!batch) throw problems.notFound('No such batch.');
  if (
    batch.status === 'running' &&
    (await deps.batches.finish(caller.tenantId, id, 'cancelled', [
      makeEvent({ type: 'messaging.batch.cancelled', tenantId: caller.tenantId, actor: caller.actor, data: { batchId: id } }),
    ]))
  )
    deps.events.written();
  else if (batch.status === 'completed') throw problems.conflict('The batch has already completed.');
  return viewBatch(deps, caller, id);
}
