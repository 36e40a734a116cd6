// Restart RabbitMQ while publishing and consuming: no confirmed message may be lost, and
// publisher and consumer must recover on their own. Runs in the serial "disruptive"
// phase so the restart cannot disturb other suites.
import { deleteTestQueues, infra, probeEvent, ROOT, runInfra, testLogger, unique, waitFor } from '@praxis/testing';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Bus } from '../../src';

describe('broker restart', () => {
  it('loses no confirmed message and both sides recover by themselves', async () => {
    const run = unique('restart');
    const logger = testLogger();
    const publisher = new Bus({ url: infra.amqpUrl, service: `${run}-pub`, logger, publishTimeoutMs: 90_000 });
    const consumer = new Bus({ url: infra.amqpUrl, service: `${run}-sub`, logger, retryDelaysMs: [200] });
    await publisher.connect();
    await consumer.connect();
    const received: string[] = [];
    await consumer.consume('sink', {
      bindings: ['platform.probe.sent'],
      handler: async (e) => {
        if (e.tenantId === run) received.push(e.id);
      },
    });

    const confirmed = new Set<string>();
    const failed = new Set<string>();
    const pending: Promise<void>[] = [];
    const total = 600;
    let restartDone = false;
    const started = Date.now();
    const restart = (async () => {
      await new Promise((r) => setTimeout(r, 1500));
      const t0 = Date.now();
      await runInfra('restart-rabbitmq');
      restartDone = true;
      return Date.now() - t0;
    })();
    for (let i = 0; i < total; i++) {
      const e = probeEvent(run, i);
      pending.push(
        publisher.publish(e).then(
          () => void confirmed.add(e.id),
          () => void failed.add(e.id),
        ),
      );
      await new Promise((r) => setTimeout(r, 10));
    }
    const restartMs = await restart;
    await Promise.all(pending);
    // Something published after the restart must also flow end to end.
    const after = probeEvent(run, total);
    await publisher.publish(after);
    confirmed.add(after.id);

    await waitFor(() => [...confirmed].every((id) => received.includes(id)), { timeoutMs: 90_000, what: 'every confirmed event received' });
    const unique_ = new Set(received);
    const figures = {
      sent: total + 1,
      confirmed: confirmed.size,
      unconfirmed: failed.size,
      received: received.length,
      distinctReceived: unique_.size,
      lost: [...confirmed].filter((id) => !unique_.has(id)).length,
      duplicates: received.length - unique_.size,
      restartMs,
      totalMs: Date.now() - started,
      publisherReconnects: publisher.reconnects,
      consumerReconnects: consumer.reconnects,
    };
    const dir = path.join(ROOT, '.data/reports');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'broker-restart.json'), JSON.stringify(figures, null, 2));
    console.log(`broker restart: ${JSON.stringify(figures)}`);

    // The broker really went away and both sides came back by themselves.
    expect(restartDone).toBe(true);
    expect(figures.publisherReconnects).toBeGreaterThanOrEqual(1);
    expect(figures.consumerReconnects).toBeGreaterThanOrEqual(1);
    expect(figures.lost).toBe(0);
    expect(figures.confirmed).toBe(total + 1);
    expect(received).toContain(after.id);

    await deleteTestQueues(consumer.queuesOf('sink'));
    await consumer.close();
    await publisher.close();
  }, 240_000);
});
