// Email never goes in clear: against a mail server that offers no STARTTLS the sender
// refuses before any envelope is sent (Mailpit without TLS receives nothing); against one
// that requires it, with the certificate trusted, the mail arrives.
import { EmailSender } from '../src/providers/email';
import { type TestMailpit, startMailpit } from './mailpit';
import { waitFor } from './testing';

jest.setTimeout(60_000);

describe('email transport security', () => {
  let plain: TestMailpit;
  let tls: TestMailpit;

  beforeAll(async () => {
    plain = await startMailpit({ tls: false });
    tls = await startMailpit({ tls: true });
  });
  afterAll(async () => {
    await plain?.stop();
    await tls?.stop();
  });

  it('refuses to send when the server offers no TLS, and nothing reaches the server', async () => {
    const sender = new EmailSender({ url: plain.smtpUrl, from: 'Praxis <no-reply@praxis.test>', timeoutMs: 5_000 });
    const to = `clear-${Date.now()}@example.org`;
    await expect(
      sender.send({ to, subject: 'Should not travel', html: '<p>x</p>', text: 'x', messageId: '<clear@praxis.test>' }),
    ).rejects.toThrow(/STARTTLS|TLS/i);
    sender.close();
    await new Promise((r) => setTimeout(r, 500));
    expect(await plain.to(to)).toEqual([]);
  });

  it('refuses a server whose certificate it does not trust', async () => {
    const sender = new EmailSender({ url: tls.smtpUrl, from: 'Praxis <no-reply@praxis.test>', timeoutMs: 5_000 });
    await expect(
      sender.send({ to: 'x@example.org', subject: 's', html: 'h', text: 't', messageId: '<untrusted@praxis.test>' }),
    ).rejects.toThrow(/certificate|self[- ]signed/i);
    sender.close();
  });

  it('sends over STARTTLS to a server it trusts', async () => {
    const sender = new EmailSender({ url: tls.smtpUrl, caFile: tls.caFile!, from: 'Praxis <no-reply@praxis.test>', timeoutMs: 5_000 });
    const to = `tls-${Date.now()}@example.org`;
    await sender.send({ to, subject: 'Over TLS', html: '<p>ok</p>', text: 'ok', messageId: '<tls@praxis.test>' });
    sender.close();
    const got = await waitFor(async () => ((await tls.to(to)).length ? tls.to(to) : undefined), { what: 'mail over TLS' });
    expect(got[0]!.Subject).toBe('Over TLS');
  });
});
