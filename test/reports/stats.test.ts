import { erf, insufficiency, normalCdf, twoProportionTest, twoSidedPValue } from '../../src/reports/stats';

describe('normal distribution', () => {
  it.each([
    [0, 0],
    [0.5, 0.5204998778],
    [1.5, 0.9661051465],
    [-1.5, -0.9661051465],
    [3, 0.9999779095],
  ])('erf(%p) = %p (tables)', (x, expected) => {
    expect(erf(x)).toBeCloseTo(expected, 6);
  });

  it('matches known quantiles of the standard normal', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1)).toBeCloseTo(0.8413447461, 6);
    expect(normalCdf(-1.6448536)).toBeCloseTo(0.05, 6);
    expect(twoSidedPValue(1.96)).toBeCloseTo(0.05, 3);
    expect(twoSidedPValue(-1.96)).toBeCloseTo(0.05, 3);
    expect(twoSidedPValue(2.5758)).toBeCloseTo(0.01, 4);
    expect(twoSidedPValue(0)).toBeCloseTo(1, 7);
  });
});

describe('two-proportion test', () => {
  it('computes lift, interval and p-value for 30/100 treated against 10/50 held out', () => {
    // pT = .3, pC = .2; pooled p = 40/150, SE = sqrt(p(1-p)(1/100 + 1/50)) = 0.0765942 -> z = 1.30558, p = 0.191695;
    // unpooled SE = sqrt(.3*.7/100 + .2*.8/50) = sqrt(.0053) -> CI = .1 -+ 1.95996 * 0.0728011.
    const r = twoProportionTest({ n: 100, conversions: 30 }, { n: 50, conversions: 10 });
    expect(r.treatmentRate).toBeCloseTo(0.3, 12);
    expect(r.controlRate).toBeCloseTo(0.2, 12);
    expect(r.difference).toBeCloseTo(0.1, 12);
    expect(r.relativeDifference).toBeCloseTo(0.5, 12);
    expect(r.incremental).toBeCloseTo(10, 10);
    expect(r.z).toBeCloseTo(1.3055824, 6);
    expect(r.pValue).toBeCloseTo(0.1916946, 5);
    expect(r.ci95[0]).toBeCloseTo(-0.0426875, 6);
    expect(r.ci95[1]).toBeCloseTo(0.2426875, 6);
  });

  it('has no relative lift over a zero control rate and no z when nothing differs', () => {
    expect(twoProportionTest({ n: 40, conversions: 8 }, { n: 40, conversions: 0 }).relativeDifference).toBeNull();
    const none = twoProportionTest({ n: 40, conversions: 0 }, { n: 40, conversions: 0 });
    expect(none).toMatchObject({ z: 0, difference: 0 });
    expect(none.pValue).toBeCloseTo(1, 7);
  });

  it('calls small groups and rare conversions not enough data', () => {
    expect(insufficiency({ n: 100, conversions: 30 }, { n: 50, conversions: 10 })).toBeNull();
    expect(insufficiency({ n: 100, conversions: 30 }, { n: 29, conversions: 10 })).toMatch(/^not enough data: holdout has 29 customers/);
    // pooled p = 6/200 = .03: the holdout of 100 expects 3 conversions, below 5.
    expect(insufficiency({ n: 100, conversions: 4 }, { n: 100, conversions: 2 })).toMatch(/treatment expects 3\.0 conversions.*holdout expects 3\.0/);
    expect(insufficiency({ n: 0, conversions: 0 }, { n: 0, conversions: 0 })).toMatch(/treatment has 0 customers.*holdout has 0/);
  });
});
