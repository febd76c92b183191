import { assign, fnv1a, unitInterval } from '../../src/shared/assignment';
import { parseDuration } from '../../src/shared/duration';
import { pointsFor, tierFor } from '../../src/shared/loyalty';
import { nextSendableTime } from '../../src/shared/quiet-hours';

const H = 3_600_000;
const D = 24 * H;

describe('parseDuration', () => {
  it.each([
    ['3 days', 3 * D],
    ['90 minutes', 90 * 60_000],
    ['4h', 4 * H],
    ['PT4H', 4 * H],
    ['P1DT12H', 36 * H],
    ['P2W', 14 * D],
    ['PT0.5S', 500],
    ['250ms', 250],
    ['1 week', 7 * D],
  ])('reads %p as %p ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'soon', '3 fortnights', 'P', 'PT', '-1 day'])('refuses %p', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('assign', () => {
  const variants = [
    { name: 'a', weight: 1 },
    { name: 'b', weight: 3 },
  ];

  it('is deterministic per customer and campaign', () => {
    expect(assign('cust-1', 'camp', 10, variants)).toEqual(assign('cust-1', 'camp', 10, variants));
  });

  it('holds out close to the requested share and splits variants by weight', () => {
    let held = 0;
    let b = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const a = assign(`customer-${i}`, 'camp', 10, variants);
      if (a.holdout) held++;
      if (a.variant === 'b') b++;
    }
    expect(held / n).toBeGreaterThan(0.09);
    expect(held / n).toBeLessThan(0.11);
    expect(b / n).toBeGreaterThan(0.73);
    expect(b / n).toBeLessThan(0.77);
  });

  it('spreads consecutive ids (one bulk import) over holdout and variants, block by block', () => {
    const equal = [
      { name: 'control', weight: 1 },
      { name: 'short-subject', weight: 1 },
    ];
    for (const idOf of [(i: number) => `cust-${i}`, (i: number) => String(100_000 + i)]) {
      let run = 0;
      let longestHoldoutRun = 0;
      const clustered: string[] = [];
      for (let block = 0; block < 10; block++) {
        let held = 0;
        let control = 0;
        for (let i = block * 100; i < (block + 1) * 100; i++) {
          const a = assign(idOf(i), 'welcome-series', 10, equal);
          run = a.holdout ? run + 1 : 0;
          longestHoldoutRun = Math.max(longestHoldoutRun, run);
          if (a.holdout) held++;
          else if (a.variant === 'control') control++;
        }
        // Binomial(100, 0.1) and Binomial(~90, 0.5): more than 3 standard deviations out means clustering.
        if (held < 2 || held > 20 || control < 25 || control > 65) clustered.push(`${idOf(block * 100)}: ${held} held, ${control} control`);
      }
      expect(clustered).toEqual([]);
      expect(longestHoldoutRun).toBeLessThanOrEqual(5);
    }
  });

  it('keeps the plain FNV-1a draw for journeys started before revision 12', () => {
    // Published FNV-1a 32-bit test vectors.
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
    expect(unitInterval('x', 'salt', 'fnv1a')).toBe(fnv1a('salt:x') / 2 ** 32);
    expect(unitInterval('x', 'salt', 'mixed')).not.toBe(unitInterval('x', 'salt', 'fnv1a'));
  });

  it('holds out nobody at 0% and everybody at 100%', () => {
    expect(assign('x', 'camp', 0, variants).holdout).toBe(false);
    expect(assign('x', 'camp', 100, variants).holdout).toBe(true);
    expect(unitInterval('x', 'salt')).toBeLessThan(1);
  });
});

describe('loyalty', () => {
  const tiers = [
    { name: 'standard', minPoints: 0 },
    { name: 'silver', minPoints: 500 },
    { name: 'gold', minPoints: 2000 },
  ];
  it('maps points to the highest reached tier', () => {
    expect(tierFor(0, tiers)).toBe('standard');
    expect(tierFor(499, tiers)).toBe('standard');
    expect(tierFor(500, tiers)).toBe('silver');
    expect(tierFor(2500, tiers)).toBe('gold');
  });
  it('earns whole points per currency unit', () => {
    expect(pointsFor(19.99, 1)).toBe(19);
    expect(pointsFor(10, 2.5)).toBe(25);
  });
});

describe('nextSendableTime', () => {
  const quiet = { start: 21, end: 8 };
  it('sends at once outside quiet hours', () => {
    const noonUtc = Date.UTC(2026, 0, 15, 12, 0);
    expect(nextSendableTime(noonUtc, 'UTC', quiet)).toBe(noonUtc);
  });
  it('waits until 08:00 local time during quiet hours', () => {
    const lateUtc = Date.UTC(2026, 0, 15, 22, 30);
    expect(nextSendableTime(lateUtc, 'UTC', quiet)).toBe(Date.UTC(2026, 0, 16, 8, 0));
  });
  it('uses the customer time zone', () => {
    // 14:00 UTC is 23:00 in Tokyo (UTC+9): quiet until 08:00 Tokyo = 23:00 UTC.
    const at = Date.UTC(2026, 0, 15, 14, 0);
    expect(nextSendableTime(at, 'Asia/Tokyo', quiet)).toBe(Date.UTC(2026, 0, 15, 23, 0));
    // 14:00 UTC is 09:00 in New York (UTC-5): fine.
    expect(nextSendableTime(at, 'America/New_York', quiet)).toBe(at);
  });
  it('handles a quiet window inside one day', () => {
    const at = Date.UTC(2026, 0, 15, 13, 15);
    expect(nextSendableTime(at, 'UTC', { start: 12, end: 14 })).toBe(Date.UTC(2026, 0, 15, 14, 0));
  });
});
