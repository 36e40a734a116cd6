// Email through an SMTP server with nodemailer. STARTTLS is required (`requireTLS`): a
// server that does not offer it — or offers a certificate that does not chain to
// SMTP_CA_FILE or the system CAs — gets nothing, not even the envelope, and the
// message fails instead of going in clear (docs/messaging.md, "Email").
import { readFileSync } from 'node:fs';
import nodemailer, { type Transporter } from 'nodemailer';

export interface EmailOptions {
  url: string;
  caFile?: string;
  user?: string;
  password?: string;
  from: string;
  /** Per-connection socket and greeting timeouts. */
  timeoutMs?: number;
}

export interface OutgoingEmail {
  to: string;
  subject: string;
  /** HTML (template bodies are HTML-escaped by records when rendered). */
  html: string;
  text: string;
  /** Stable per message: the Message-ID header, so a resend is recognisably the same mail. */
  messageId: string;
}

export class EmailSender {
  private readonly transport: Transporter;

  constructor(o: EmailOptions) {
    const u = new URL(o.url);
    this.transport = nodemailer.createTransport({
      host: u.hostname,
      port: Number(u.port || 587),
      secure: false,
      requireTLS: true,
      ignoreTLS: false,
      tls: { minVersion: 'TLSv1.2', rejectUnauthorized: true, ...(o.caFile ? { ca: readFileSync(o.caFile) } : {}) },
      ...(o.user ? { auth: { user: o.user, pass: o.password ?? '' } } : {}),
      pool: true,
      maxConnections: 4,
      connectionTimeout: o.timeoutMs ?? 10_000,
      greetingTimeout: o.timeoutMs ?? 10_000,
      socketTimeout: (o.timeoutMs ?? 10_000) * 3,
    });
    this.from = o.from;
  }

  private readonly from: string;

  async send(mail: OutgoingEmail): Promise<{ providerMessageId: string }> {
    const info = await this.transport.sendMail({
      from: this.from,
      to: mail.to,
      subject: mail.subject,
      html: mail.html,
      text: mail.text,
      messageId: mail.messageId,
    });
    return { providerMessageId: String(info.messageId ?? mail.messageId) };
  }

  close(): void {
    this.transport.close();
  }
}
