/* eslint-disable @typescript-eslint/no-require-imports -- each load must run in jest.isolateModules' fresh registry */
/**
 * A worker evaluates the workflow modules once for every journey it holds in its cache (issue 11): whatever those
 * modules build at load, every cached journey pays for in memory and every start in CPU. The schemas they share with
 * the triggers must therefore be built on first use, and a journey must build only its own stage's.
 */
type ZodNamespace = typeof import('zod')['z'];

/** Loads `modules` in a fresh registry with every zod constructor call counted. */
function loadCounting<T>(load: () => T): { result: T; calls: () => number } {
  let calls = 0;
  let result: T | undefined;
  jest.isolateModules(() => {
    const actual = jest.requireActual<typeof import('zod')>('zod');
    const counted = Object.fromEntries(
      Object.entries(actual.z).map(([key, value]: [string, unknown]) => [
        key,
        typeof value === 'function' && /^[a-z]/.test(key)
          ? (...args: unknown[]) => {
              calls++;
              return (value as (...a: unknown[]) => unknown)(...args);
            }
          : value,
      ]),
    ) as unknown as ZodNamespace;
    jest.doMock('zod', () => ({ ...actual, z: counted }));
    result = load();
  });
  return { result: result as T, calls: () => calls };
}

describe('schemas shared with workflows are built on first use', () => {
  afterEach(() => jest.dontMock('zod'));

  it('loading the campaign, message and sweep modules builds no schema (beyond the one duration field)', () => {
    const { calls } = loadCounting(() => {
      require('../../src/shared/duration');
      return undefined;
    });
    const durationOnly = calls();
    const loaded = loadCounting(() => {
      require('../../src/shared/campaign-definition');
      require('../../src/shared/messages');
      require('../../src/shared/sweep-contracts');
      return undefined;
    });
    expect(loaded.calls()).toBe(durationOnly);
  });

  it("a journey's stage builds its schema once, and far fewer than all four stages", () => {
    const one = loadCounting(() => require('../../src/shared/campaign-definition') as typeof import('../../src/shared/campaign-definition'));
    const before = one.calls();
    const schema = one.result.definitionSchemaFor('onboarding');
    const forOne = one.calls() - before;
    expect(one.result.definitionSchemaFor('onboarding')).toBe(schema);
    expect(one.calls() - before).toBe(forOne);

    const all = loadCounting(() => require('../../src/shared/campaign-definition') as typeof import('../../src/shared/campaign-definition'));
    const start = all.calls();
    all.result.campaignDefinitionSchema();
    expect(forOne).toBeGreaterThan(0);
    expect(forOne).toBeLessThan((all.calls() - start) / 2);
  });

  it('the message schemas wait for the first trigger or update that validates with them', () => {
    const loaded = loadCounting(() => require('../../src/shared/messages') as typeof import('../../src/shared/messages'));
    const before = loaded.calls();
    const schemas = loaded.result.messageSchemas();
    expect(loaded.calls()).toBeGreaterThan(before);
    expect(loaded.result.messageSchemas()).toBe(schemas);
    expect(schemas.surveyAnswer.parse({ survey: 'csat', rating: 5 })).toEqual({ survey: 'csat', rating: 5 });
  });
});
