// SMS length and cost (3GPP TS 23.038 / 23.040). A text made only of the GSM 03.38 default
// alphabet (plus its extension table, each extension character taking two septets) goes as
// GSM-7: 160 characters in one message, 153 per part when concatenated. Anything else goes
// as UCS-2: 70 characters, 67 per part (characters outside the BMP take two UTF-16 units).
// Credits are charged per part.

const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENDED = '^{}\\[~]|€\f';
const basic = new Set([...GSM_BASIC]);
const extended = new Set([...GSM_EXTENDED]);

/** Parts allowed for one message; a longer body is refused (400 naming the limit). */
export const MAX_SMS_SEGMENTS = 10;

export interface SmsSize {
  encoding: 'GSM-7' | 'UCS-2';
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  units: number;
  segments: number;
}

export function smsSize(text: string): SmsSize {
  let septets = 0;
  let gsm = true;
  for (const ch of text) {
    if (basic.has(ch)) septets += 1;
    else if (extended.has(ch)) septets += 2;
    else {
      gsm = false;
      break;
    }
  }
  if (gsm) return { encoding: 'GSM-7', units: septets, segments: septets === 0 ? 1 : septets <= 160 ? 1 : Math.ceil(septets / 153) };
  const units = text.length; // UTF-16 code units
  return { encoding: 'UCS-2', units, segments: units <= 70 ? 1 : Math.ceil(units / 67) };
}

/** The longest text, in characters of each encoding, that fits MAX_SMS_SEGMENTS. */
export const smsLimits = { gsm7: 153 * MAX_SMS_SEGMENTS, ucs2: 67 * MAX_SMS_SEGMENTS };
