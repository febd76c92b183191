import { startApiKit, type ApiKit } from './api-kit';

describe('HTTP API skeleton', () => {
  let kit: ApiKit;
  beforeAll(async () => {
    kit = await startApiKit();
  });
  afterAll(() => kit.close());

  it('serves an OpenAPI document', async () => {
    const response = await kit.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ openapi: expect.stringMatching(/^3\./), info: { title: 'Retention Orchestrator API' } });
  });

  it('answers malformed JSON with 400, not 500', async () => {
    const response = await kit.app.inject({ method: 'POST', url: '/health', headers: { 'content-type': 'application/json' }, payload: '{"a":' });
    expect(response.statusCode).toBe(400);
  });

  it('serves on a real socket', async () => {
    const base = await kit.listen();
    const response = await fetch(`${base}/health`);
    expect(await response.json()).toEqual({ ok: true });
  });
});
