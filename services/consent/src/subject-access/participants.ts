// The participants of data-subject rights requests, as consent reaches them: the registry
// (libs/contracts/src/subject-rights.ts) filtered to what this deployment runs, each with
// its base URL — or, for consent itself, its own export function. Calls carry a service
// token (libs/platform/src/service-tokens.ts) for the request's practice.
import type { SarFailureReason } from '@praxis/contracts';
import type { ServiceTokenSource } from '@praxis/platform';
import { JsonListSplitter } from './streamed-part';

export interface Participant {
  service: string;
  exports: boolean;
  erases: boolean;
  /** Base URL of the service; absent for consent itself (answered in-process). */
  url?: string;
}

export type PartExport = Record<string, unknown> & { service: string };

const REASON_TEXT: Partial<Record<SarFailureReason, string>> = {
  'broke-off': 'broke off mid-answer',
  'wrong-service': 'answered for another service',
};

export class ParticipantFailed extends Error {
  /** Why, in words (`unreachable`, `timeout`, `status 503`, …): shown on the request. */
  readonly reason: string;

  constructor(
    readonly participant: string,
    /** Why, as a code (the failed event carries it). */
    readonly code: SarFailureReason,
    /** Whether asking again later may succeed (unreachable, timeout, 5xx, 429), or not (another 4xx, a wrong answer). */
    readonly transient: boolean,
    /** The participant's HTTP status, for `status`. */
    readonly status?: number,
  ) {
    const reason = code === 'status' ? `status ${status}` : (REASON_TEXT[code] ?? code);
    super(`${participant}: ${reason}`);
    this.reason = reason;
    this.name = 'ParticipantFailed';
  }
}

export interface ExportClientOptions {
  tokens: ServiceTokenSource;
  /** Back-off before each retry of a participant that failed (network, 5xx, 429). */
  retryDelaysMs?: number[];
  timeoutMs?: number;
}

/**
 * Fetch one participant's part of a patient's export, retrying transient failures a few
 * times within the call (a blip); a participant that stays down is the caller's to retry
 * later (subject-access/use-cases.ts `collate`, across runner ticks).
 */
export async function fetchPart(
  p: Participant,
  tenantId: string,
  patientId: string,
  requestId: string,
  opts: ExportClientOptions,
  stream?: StreamedList,
): Promise<PartExport> {
  const delays = opts.retryDelaysMs ?? [500, 2_000, 5_000];
  let last: { code: SarFailureReason; status?: number } = { code: 'unreachable' };
  let transient = true;
  for (let attempt = 0; attempt <= delays.length; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, delays[attempt - 1]));
    try {
      const token = await opts.tokens.tokenFor(tenantId);
      const url = `${p.url!.replace(/\/$/, '')}/api/v1/internal/patients/${encodeURIComponent(patientId)}/export?requestId=${encodeURIComponent(requestId)}`;
      const res = await fetch(url, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
      });
      // A participant that never held the patient has nothing to export.
      if (res.status === 404) {
        await res.arrayBuffer();
        return { service: p.service, held: false };
      }
      if (res.ok) {
        const body = stream ? await readStreamed(p, res, stream) : ((await res.json()) as PartExport);
        if (body.service !== p.service) throw new ParticipantFailed(p.service, 'wrong-service', false);
        return body;
      }
      await res.arrayBuffer();
      last = { code: 'status', status: res.status };
      // 4xx other than 404/429 will not get better by asking again.
      if (res.status < 500 && res.status !== 429) {
        transient = false;
        break;
      }
    } catch (err) {
      if (err instanceof ParticipantFailed) throw err;
      if (err instanceof ConsumerFailed) throw err.error;
      last = { code: (err as Error).name === 'TimeoutError' ? 'timeout' : 'unreachable' };
    }
  }
  throw new ParticipantFailed(p.service, last.code, transient, last.status);
}

/** One list of a part handed on item by item (each item's JSON text) as the answer arrives. */
export interface StreamedList {
  list: string;
  onItems: (items: string[]) => Promise<void>;
}

/** The consumer of a streamed list failed (consent's own fault, not the participant's): its error, unchanged. */
class ConsumerFailed extends Error {
  constructor(readonly error: unknown) {
    super('the streamed list could not be taken');
    this.name = 'ConsumerFailed';
  }
}

/**
 * Read a part as it arrives, handing the list's items on as they complete; the part
 * without them. Once an item has been handed on, the answer cannot simply be asked for
 * again (the items would come twice): an answer that breaks off then fails this attempt
 * as a whole (transient: the collation is retried from the start later).
 */
async function readStreamed(p: Participant, res: Response, stream: StreamedList): Promise<PartExport> {
  const splitter = new JsonListSplitter(stream.list);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const take = async (items: string[]) => {
    if (!items.length) return;
    try {
      await stream.onItems(items);
    } catch (error) {
      throw new ConsumerFailed(error);
    }
  };
  try {
    if (res.body) for await (const bytes of res.body) await take(splitter.push(decoder.decode(bytes, { stream: true })));
    await take(splitter.push(decoder.decode()));
    return splitter.end() as PartExport;
  } catch (err) {
    if (err instanceof ConsumerFailed) throw err;
    if (splitter.items > 0) throw new ParticipantFailed(p.service, (err as Error).name === 'TimeoutError' ? 'timeout' : 'broke-off', true);
    throw err;
  }
}
