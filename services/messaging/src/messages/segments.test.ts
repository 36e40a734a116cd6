import { MAX_SMS_SEGMENTS, smsLimits, smsSize } from './segments';

describe('SMS segments', () => {
  it('counts GSM-7 texts: 160 in one part, then 153 per part', () => {
    expect(smsSize('Your appointment is at 10:00.')).toEqual({ encoding: 'GSM-7', units: 29, segments: 1 });
    expect(smsSize('a'.repeat(160)).segments).toBe(1);
    expect(smsSize('a'.repeat(161)).segments).toBe(2);
    expect(smsSize('a'.repeat(306)).segments).toBe(2);
    expect(smsSize('a'.repeat(307)).segments).toBe(3);
  });

  it('counts extension characters (€, [, ]) as two septets', () => {
    expect(smsSize('€'.repeat(80))).toEqual({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(smsSize('€'.repeat(81)).segments).toBe(2);
  });

  it('switches to UCS-2 for anything outside the GSM alphabet: 70, then 67 per part', () => {
    expect(smsSize('Zażółć gęślą jaźń')).toMatchObject({ encoding: 'UCS-2', segments: 1 });
    expect(smsSize('ł'.repeat(70)).segments).toBe(1);
    expect(smsSize('ł'.repeat(71)).segments).toBe(2);
    expect(smsSize('😀'.repeat(35))).toEqual({ encoding: 'UCS-2', units: 70, segments: 1 });
  });

  it('states the limits the API refuses beyond', () => {
    expect(smsSize('a'.repeat(smsLimits.gsm7)).segments).toBe(MAX_SMS_SEGMENTS);
    expect(smsSize('a'.repeat(smsLimits.gsm7 + 1)).segments).toBe(MAX_SMS_SEGMENTS + 1);
    expect(smsSize('ł'.repeat(smsLimits.ucs2 + 1)).segments).toBe(MAX_SMS_SEGMENTS + 1);
  });
});
