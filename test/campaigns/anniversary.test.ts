import { nextAnniversary } from '../../src/shared/anniversary';
import { definitionSchemaFor } from '../../src/shared/campaign-definition';

const at = (iso: string) => Date.parse(iso);
const yearly = { hour: 10 };

/** The anniversaries after `signup`, one after the other. */
function series(signup: string, timeZone: string, count: number): string[] {
  const out: string[] = [];
  let after = at(signup);
  for (let i = 0; i < count; i++) {
    after = nextAnniversary(yearly, at(signup), after, timeZone);
    out.push(new Date(after).toISOString());
  }
  return out;
}

describe('nextAnniversary (yearly, by the calendar)', () => {
  it('keeps a 29 February signup on 28 February in non-leap years and on 29 February in leap years', () => {
    expect(series('2024-02-29T18:45:00Z', 'UTC', 5)).toEqual([
      '2025-02-28T10:00:00.000Z',
      '2026-02-28T10:00:00.000Z',
      '2027-02-28T10:00:00.000Z',
      '2028-02-29T10:00:00.000Z',
      '2029-02-28T10:00:00.000Z',
    ]);
  });

  it('uses the signup date and the hour in the customer\'s time zone (Tokyo), without drifting across leap years', () => {
    // 20:00 UTC on 15 March is already 05:00 on 16 March in Tokyo (UTC+9): 10:00 JST is 01:00 UTC.
    expect(series('2023-03-15T20:00:00Z', 'Asia/Tokyo', 6)).toEqual([
      '2024-03-16T01:00:00.000Z',
      '2025-03-16T01:00:00.000Z',
      '2026-03-16T01:00:00.000Z',
      '2027-03-16T01:00:00.000Z',
      '2028-03-16T01:00:00.000Z',
      '2029-03-16T01:00:00.000Z',
    ]);
  });

  it('reads 29 February from the local date: a Tokyo customer who signed up on 28 February UTC', () => {
    // 2024-02-28T16:30Z is 29 February 01:30 in Tokyo.
    expect(series('2024-02-28T16:30:00Z', 'Asia/Tokyo', 4)).toEqual([
      '2025-02-28T01:00:00.000Z',
      '2026-02-28T01:00:00.000Z',
      '2027-02-28T01:00:00.000Z',
      '2028-02-29T01:00:00.000Z',
    ]);
  });

  it('follows daylight saving time: 10:00 local in summer and in winter', () => {
    expect(nextAnniversary(yearly, at('2024-07-04T12:00:00Z'), at('2024-07-04T12:00:00Z'), 'America/New_York')).toBe(at('2025-07-04T14:00:00Z'));
    expect(nextAnniversary(yearly, at('2024-01-10T12:00:00Z'), at('2024-01-10T12:00:00Z'), 'America/New_York')).toBe(at('2025-01-10T15:00:00Z'));
    expect(nextAnniversary({ hour: 7 }, at('2024-01-10T12:00:00Z'), at('2024-01-10T12:00:00Z'), 'Europe/Berlin')).toBe(at('2025-01-10T06:00:00Z'));
  });

  it('gives the next one strictly after `after`, skipping years already past', () => {
    const signup = at('2020-06-01T09:00:00Z');
    expect(nextAnniversary(yearly, signup, at('2024-08-01T00:00:00Z'), 'UTC')).toBe(at('2025-06-01T10:00:00Z'));
    expect(nextAnniversary(yearly, signup, at('2025-06-01T10:00:00Z'), 'UTC')).toBe(at('2026-06-01T10:00:00Z'));
    expect(nextAnniversary(yearly, signup, at('2025-06-01T09:59:59Z'), 'UTC')).toBe(at('2025-06-01T10:00:00Z'));
  });
});

describe('nextAnniversary (fixed interval)', () => {
  it('counts whole intervals from signup', () => {
    const day = 86_400_000;
    const signup = at('2025-01-01T12:00:00Z');
    const rule = { every: 45 * day, hour: 10 };
    expect(nextAnniversary(rule, signup, signup, 'Asia/Tokyo')).toBe(signup + 45 * day);
    expect(nextAnniversary(rule, signup, signup + 45 * day, 'Asia/Tokyo')).toBe(signup + 90 * day);
    expect(nextAnniversary(rule, signup, signup + 100 * day, 'Asia/Tokyo')).toBe(signup + 135 * day);
  });
});

describe('anniversary in the nurture definition', () => {
  const parse = (input: object) => definitionSchemaFor('nurture').shape.anniversary.parse({ template: 'nurture/anniversary', ...input });

  it('is yearly at 10:00 local by default, and "365 days" (the former default) reads as yearly', () => {
    expect(parse({})).toEqual({ every: undefined, hour: 10, template: 'nurture/anniversary' });
    expect(parse({ every: '365 days' })).toEqual({ every: undefined, hour: 10, template: 'nurture/anniversary' });
    expect(parse({ every: '45 days', hour: 8 })).toEqual({ every: 45 * 86_400_000, hour: 8, template: 'nurture/anniversary' });
    expect(() => parse({ hour: 24 })).toThrow();
  });
});
