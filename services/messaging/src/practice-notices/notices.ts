// Practice notices: an operator's service notice (planned maintenance, an outage) emailed to
// every active admin of every practice, through messaging's email sender (nodemailer with
// STARTTLS required and the server's certificate verified, as for patients' email). The
// recipients are staff, not patients, so the patient message queue (consent preferences,
// records' contact details, patient keys) does not apply; what carries over is the sender
// and exactly-once bookkeeping: each (notice, admin) pair is claimed by a unique insert in
// `practice_notice_deliveries` before the send and marked sent after it, so rerunning the
// command after a crash or a failure sends only what is missing. Nothing identifying is
// stored there — ids and statuses, never an address or the text.
import type { Logger } from '@praxis/platform';
import type { Connection } from 'mongoose';
import type { OutgoingEmail } from '../providers/email';
import type { PracticeAdminSource } from './auth-admins';

export interface PracticeNotice {
  /** The operator's id for this notice (reruns with the same id send only what is missing). */
  id: string;
  subject: string;
  text: string;
}

export interface NoticeDeps {
  mongo: Connection;
  admins: PracticeAdminSource;
  email: { send(mail: OutgoingEmail): Promise<unknown> };
  logger: Logger;
}

export interface NoticeResult {
  practices: number;
  admins: number;
  sent: number;
  alreadySent: number;
  failed: number;
}

interface DeliveryDoc {
  _id: string;
  noticeId: string;
  tenantId: string;
  userId: string;
  status: 'sending' | 'sent' | 'failed';
  attempts: number;
  updatedAt: Date;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export async function sendPracticeNotice(deps: NoticeDeps, notice: PracticeNotice): Promise<NoticeResult> {
  if (!/^[A-Za-z0-9_-]{1,80}$/.test(notice.id)) throw new Error('the notice id must be 1–80 letters, digits, - or _');
  const col = deps.mongo.collection<DeliveryDoc>('practice_notice_deliveries');
  const result: NoticeResult = { practices: 0, admins: 0, sent: 0, alreadySent: 0, failed: 0 };
  let after: string | undefined;
  do {
    const page = await deps.admins.page(after);
    for (const p of page.items) {
      result.practices++;
      for (const a of p.admins) {
        result.admins++;
        const _id = `${notice.id}|${p.tenantId}|${a.userId}`;
        const claimed = await col
          .insertOne({
            _id,
            noticeId: notice.id,
            tenantId: p.tenantId,
            userId: a.userId,
            status: 'sending',
            attempts: 1,
            updatedAt: new Date(),
          })
          .then(() => true)
          .catch((err: { code?: number }) => {
            if (err.code === 11000) return false;
            throw err;
          });
        if (!claimed) {
          // Sent by an earlier run: skip. Failed, or cut off mid-send by a crash: try again.
          const prior = await col.findOneAndUpdate(
            { _id, status: { $in: ['failed', 'sending'] } },
            { $set: { status: 'sending', updatedAt: new Date() }, $inc: { attempts: 1 } },
          );
          if (!prior) {
            result.alreadySent++;
            continue;
          }
        }
        try {
          await deps.email.send({
            to: a.email,
            subject: notice.subject,
            text: `Dear ${a.name},\n\n${notice.text}\n\n(${p.practice})`,
            html: `<p>Dear ${escapeHtml(a.name)},</p>${notice.text
              .split(/\n{2,}/)
              .map((para) => `<p>${escapeHtml(para).replace(/\n/g, '<br>')}</p>`)
              .join('')}<p class="muted">${escapeHtml(p.practice)}</p>`,
            // One Message-ID per notice and admin: a resend after a crash is recognisably the same mail.
            messageId: `<${notice.id}.${a.userId}@practice-notices.praxis>`,
          });
          await col.updateOne({ _id }, { $set: { status: 'sent', updatedAt: new Date() } });
          result.sent++;
        } catch (err) {
          await col.updateOne({ _id }, { $set: { status: 'failed', updatedAt: new Date() } });
          result.failed++;
          deps.logger.warn(
            { noticeId: notice.id, tenantId: p.tenantId, userId: a.userId, err: (err as Error).message },
            'practice notice not sent',
          );
        }
      }
    }
    after = page.next;
  } while (after);
  deps.logger.info({ noticeId: notice.id, ...result }, 'practice notice done');
  return result;
}
