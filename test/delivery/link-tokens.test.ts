import { createHmac } from 'node:crypto';
import { signLink, verifyLink } from '../../src/delivery/link-signature';
import { surveyLink, surveyTokenFormat } from '../../src/delivery/survey-token';
import { signUnsubscribe, unsubscribeTokenFormat } from '../../src/delivery/unsubscribe-token';

const SECRET = 'test-secret-please-rotate';

/** Tokens exactly as the code before v2 signed them (src/delivery/unsubscribe-token.ts and src/activities/links.ts then). */
const legacyToken = (...fields: string[]) => createHmac('sha256', SECRET).update(fields.join('\n')).digest('base64url');

function readSurveyLink(link: string) {
  const q = new URL(link).searchParams;
  return { workflowId: q.get('w') as string, runId: q.get('r') as string, survey: q.get('s') as 'csat', expiresAt: Number(q.get('e')), token: q.get('t') as string };
}

describe('link tokens', () => {
  test('name their purpose: a token made for one purpose never verifies for another, over the same fields', () => {
    const fields = ['winback-cus_1', 'run-1', 'csat', '1900000000'];
    const asSurvey = signLink(SECRET, 'survey', fields);
    expect(verifyLink(SECRET, 'survey', fields, asSurvey)).toBe(true);
    expect(verifyLink(SECRET, 'unsubscribe', fields, asSurvey)).toBe(false);
    expect(verifyLink(SECRET, 'survey', fields, signLink(SECRET, 'unsubscribe', fields))).toBe(false);

    // Through the link functions: an unsubscribe token for "customer" w and "channel" r does not open w's survey.
    const unsubscribeToken = signUnsubscribe(SECRET, 'complaint-T-1', 'email');
    expect(surveyTokenFormat(SECRET, { workflowId: 'complaint-T-1', runId: 'email', survey: 'csat', token: unsubscribeToken })).toBe('invalid');
  });

  test('keep fields apart whatever characters they hold', () => {
    expect(verifyLink(SECRET, 'survey', ['a\nb', 'c'], signLink(SECRET, 'survey', ['a', 'b\nc']))).toBe(false);
    expect(verifyLink(SECRET, 'survey', ['a","b', 'c'], signLink(SECRET, 'survey', ['a', 'b', 'c']))).toBe(false);
  });

  test('a survey link signs its journey run, its survey and its expiry', () => {
    const expiresAt = new Date('2030-01-01T00:00:00Z');
    const link = surveyLink('https://shop.test', SECRET, { workflowId: 'winback-cus_1', runId: 'run-1' }, 'churn-reason', expiresAt);
    expect(link).toMatch(/^https:\/\/shop\.test\/surveys\?w=winback-cus_1&r=run-1&s=churn-reason&e=1893456000&t=[A-Za-z0-9_-]{43}$/);
    const fields = readSurveyLink(link);
    expect(surveyTokenFormat(SECRET, fields)).toBe('current');
    expect(surveyTokenFormat(SECRET, { ...fields, expiresAt: fields.expiresAt + 86_400 })).toBe('invalid');
    expect(surveyTokenFormat(SECRET, { ...fields, runId: 'run-2' })).toBe('invalid');
    expect(surveyTokenFormat(SECRET, { ...fields, survey: 'csat' })).toBe('invalid');
    expect(surveyTokenFormat(SECRET, { ...fields, expiresAt: undefined })).toBe('invalid');
  });

  test('recognise the tokens of links sent before v2, each for its own purpose only', () => {
    const oldUnsubscribe = legacyToken('cus_1', 'email');
    expect(unsubscribeTokenFormat(SECRET, 'cus_1', 'email', oldUnsubscribe)).toBe('legacy');
    expect(unsubscribeTokenFormat(SECRET, 'cus_1', 'sms', oldUnsubscribe)).toBe('invalid');
    expect(unsubscribeTokenFormat('another-secret-entirely', 'cus_1', 'email', oldUnsubscribe)).toBe('invalid');

    const oldSurvey = legacyToken('complaint-T-1', 'run-1', 'csat');
    expect(surveyTokenFormat(SECRET, { workflowId: 'complaint-T-1', runId: 'run-1', survey: 'csat', token: oldSurvey })).toBe('legacy');
    // An old token never passes for the current format, even with an expiry added to its link.
    expect(surveyTokenFormat(SECRET, { workflowId: 'complaint-T-1', runId: 'run-1', survey: 'csat', expiresAt: 1_900_000_000, token: oldSurvey })).toBe('invalid');
    expect(surveyTokenFormat(SECRET, { workflowId: 'complaint-T-1', runId: 'run-1', survey: 'churn-reason', token: oldSurvey })).toBe('invalid');
  });
});
