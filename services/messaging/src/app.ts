// Builds the messaging service from its dependencies (main.ts passes the real ones; tests
// and the benchmark build it the same way with their own database, bus, token issuer,
// mail server and SMS simulators).
import {
  ApiRouter,
  KekRing,
  KeyedSerialiser,
  PeriodicTask,
  type BuiltService,
  type ServiceParts,
  openServiceStore,
  serialisedCollection,
  serviceHttpApp,
} from '@praxis/platform';
import express from 'express';
import { Events } from './common/events';
import { LedgerRepository, SweepMarks, ledgerModel, sweepMarkModel } from './credits/model';
import { creditRoutes } from './credits/routes';
import { AbandonedReservationSweep } from './credits/sweep';
import { Credits } from './credits/use-cases';
import { KeyService } from './keys/key-service';
import { KeyRepository } from './keys/model';
import { type DeliveryDeps, deliverMessage, receiptUrl } from './messages/delivery';
import { MessageRepository, messageModels } from './messages/model';
import { receiptRoutes } from './messages/receipts';
import { messageRoutes } from './messages/routes';
import type { MessageDeps } from './messages/use-cases';
import { startPreferenceConsumer } from './preferences/consumer';
import { PreferenceRepository, preferenceModel } from './preferences/model';
import type { EmailSender } from './providers/email';
import type { SmsProvider, SmsProviderName } from './providers/sms-provider';
import { SmsRouter } from './providers/sms-router';
import { TwilioProvider } from './providers/twilio';
import { VonageProvider } from './providers/vonage';
import type { RecordsClient } from './records-client/records-client';
import { BatchRepository, batchModel } from './batches/model';
import { batchRoutes } from './batches/routes';
import { type BatchDeps, completeIfDone, expandBatch } from './batches/use-cases';
import { DirectMessageRepository, dmModels } from './direct-messages/model';
import { startSubjectDataConsumers } from './subject-data/consumers';
import { ErasureRepository, erasureModel } from './subject-data/model';
import { subjectDataRoutes } from './subject-data/routes';
import type { PracticeDirectory } from './subject-data/practices';
import type { SubjectDataDeps } from './subject-data/use-cases';
import { directMessageRoutes } from './direct-messages/routes';
import type { DirectMessageDeps, PracticeNames } from './direct-messages/use-cases';

export interface SmsSettings {
  primary: SmsProviderName;
  twilio: { apiUrl: string; accountSid: string; authToken: string; from: string };
  vonage: { apiUrl: string; apiKey: string; apiSecret: string; signatureSecret: string; from: string };
  timeoutMs: number;
  breakerFailures: number;
  halfOpenAfterMs: number;
}

export interface MessagingDeps extends ServiceParts {
  records: RecordsClient;
  email: Pick<EmailSender, 'send'>;
  sms: SmsSettings;
  /** Public base URL providers post receipts to (the gateway in production). */
  webhookBaseUrl: string;
  /** Public base URL of the platform, for links in emails. */
  publicUrl: string;
  dmTtlDays?: number;
  practices: PracticeNames;
  /** Whether this deployment's auth knows a practice (erasure and notice requests of others are ignored). */
  knownPractice: PracticeDirectory;
  /** Prefix of the bus consumer names (MESSAGING_CONSUMER_PREFIX). */
  consumerPrefix?: string;
  /** How many times the bus redelivers before parking (BUS_RETRY_DELAYS_MS length). */
  busRetries?: number;
  /** Delivery worker's prefetch: messages in flight at once per process. */
  deliveryConcurrency?: number;
  /** A credit reservation without its message this long after it was made is refunded (default 10 min). */
  creditHoldMs?: number;
  /** How often the sweep for such reservations runs (default 1 min). */
  creditSweepMs?: number;
}

export interface Messaging extends BuiltService {
  keys: KeyService;
  messages: MessageRepository;
  directMessages: DirectMessageRepository;
  preferences: PreferenceRepository;
  credits: Credits;
  sms: SmsRouter;
  delivery: DeliveryDeps;
  batches: BatchRepository;
  subjectData: SubjectDataDeps;
}

export function smsProviders(s: SmsSettings, webhookBaseUrl: string): SmsProvider[] {
  return [
    new TwilioProvider({ ...s.twilio, timeoutMs: s.timeoutMs, statusCallback: receiptUrl(webhookBaseUrl, 'twilio') }),
    new VonageProvider({ ...s.vonage, timeoutMs: s.timeoutMs, statusCallback: receiptUrl(webhookBaseUrl, 'vonage') }),
  ];
}

export async function buildMessaging(deps: MessagingDeps): Promise<Messaging> {
  const keyStore = new KeyRepository(deps.mongo);
  const keys = new KeyService(keyStore, new KekRing(deps.keks));
  const mm = messageModels(deps.mongo);
  const Ledger = ledgerModel(deps.mongo);
  const Preference = preferenceModel(deps.mongo);
  // Documents that get events after their insert are updated one writer at a time.
  const serial = new KeyedSerialiser();
  const messageCol = serialisedCollection(mm.Message.collection, serial);
  const messages = new MessageRepository(mm, keys, messageCol);
  const dm = dmModels(deps.mongo);
  const Batch = batchModel(deps.mongo);
  const batchCol = serialisedCollection(Batch.collection, serial);
  const batches = new BatchRepository(Batch, batchCol);
  const Erasure = erasureModel(deps.mongo);
  const erasureCol = serialisedCollection(Erasure.collection, serial);
  const erasures = new ErasureRepository(Erasure, erasureCol);
  const directMessages = new DirectMessageRepository(dm, keys);
  const preferences = new PreferenceRepository(Preference);
  const credits = new Credits(new LedgerRepository(Ledger), deps.creditHoldMs ?? 600_000);
  const abandoned = new AbandonedReservationSweep(
    credits,
    new SweepMarks(sweepMarkModel(deps.mongo)),
    (ids) => messages.existing(ids),
    deps.logger,
  );
  const creditSweep = new PeriodicTask('credit sweep', deps.creditSweepMs ?? 60_000, () => abandoned.run(), deps.logger);
  const sms = new SmsRouter({
    providers: smsProviders(deps.sms, deps.webhookBaseUrl),
    primary: deps.sms.primary,
    breakerFailures: deps.sms.breakerFailures,
    halfOpenAfterMs: deps.sms.halfOpenAfterMs,
    logger: deps.logger,
    metrics: deps.metrics,
  });

  await keyStore.init(deps.logger);
  const { relay, idempotency } = await openServiceStore(deps, [
    messageCol,
    Ledger.collection,
    dm.DirectMessage.collection,
    batchCol,
    erasureCol,
  ]);

  // Access events leave with the relay's next poll (≤ 250 ms): reads are many here.
  const events = new Events(deps.mongo, relay, { nudgeAfterAccess: false });
  const messageDeps: MessageDeps = { messages, preferences, records: deps.records, credits, events };
  const delivery: DeliveryDeps = {
    messages,
    preferences,
    credits,
    events,
    email: deps.email,
    sms,
    batchCancelled: (tenantId, batchId) => batches.cancelled(tenantId, batchId),
    logger: deps.logger,
    metrics: deps.metrics,
  };

  const api = new ApiRouter(deps.authenticator);
  messageRoutes(api, messageDeps);
  creditRoutes(api, { credits });
  receiptRoutes(api, { messages, sms, events, webhookBaseUrl: deps.webhookBaseUrl });
  const dmDeps: DirectMessageDeps = {
    ...messageDeps,
    directMessages,
    practices: deps.practices,
    publicUrl: deps.publicUrl,
    ttlDays: deps.dmTtlDays ?? 7,
  };
  directMessageRoutes(api, dmDeps);
  const batchDeps: BatchDeps = { ...messageDeps, batches, logger: deps.logger };
  batchRoutes(api, batchDeps);
  const subjectData: SubjectDataDeps = {
    ...messageDeps,
    directMessages,
    keys,
    erasures,
    knownPractice: deps.knownPractice,
    publicUrl: deps.publicUrl,
    logger: deps.logger,
  };
  subjectDataRoutes(api, subjectData);

  let started = false;
  const app = serviceHttpApp('messaging', deps, [api], {
    readiness: {
      // Not ready until the workers are bound to their queues (start()).
      workers: async () => {
        if (!started) throw new Error('workers not started');
      },
    },
    // Providers post receipts form-encoded (Twilio); everything else is JSON.
    configure: (a) => a.use('/api/v1/webhooks', express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 100 })),
  });

  const prefix = deps.consumerPrefix ?? '';
  const retries = deps.busRetries ?? 3;
  return {
    app,
    relay,
    keys,
    messages,
    directMessages,
    preferences,
    credits,
    sms,
    delivery,
    batches,
    subjectData,
    async start() {
      await startPreferenceConsumer(deps.bus, idempotency, preferences, prefix);
      await deps.bus.consume(`${prefix}deliveries`, {
        bindings: ['messaging.message.queued'],
        prefetch: deps.deliveryConcurrency ?? 20,
        handler: async (event, info) => {
          await deliverMessage(delivery, event.data.messageId, info.attempt > retries);
          // The last message of a batch completes it.
          if (event.data.batchId !== undefined) await completeIfDone(batchDeps, event.tenantId, event.data.batchId);
        },
      });
      await startSubjectDataConsumers(deps.bus, idempotency, subjectData, prefix);
      await deps.bus.consume(`${prefix}batches`, {
        bindings: ['messaging.batch.started'],
        prefetch: 2,
        handler: async (event) => expandBatch(batchDeps, event.tenantId, event.data.batchId),
      });
      // Only now: the relay publishes events this service consumes itself (queued
      // messages, started batches), so its queues must be bound before the first one leaves.
      relay.start();
      creditSweep.start();
      started = true;
    },
    async stop() {
      await creditSweep.stop();
      await relay.stop();
    },
  };
}
