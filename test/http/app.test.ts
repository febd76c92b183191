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
    // A real JSON route, authorised: only the body's syntax is wrong.
    const response = await kit.app.inject({
      method: 'PUT',
      url: '/customers/malformed',
      headers: { ...kit.auth, 'content-type': 'application/json' },
      payload: '{"name": "Ada",',
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toEqual({ error: expect.any(String), message: expect.stringMatching(/json/i) });
    expect(await kit.store.getCustomer('malformed')).toBeUndefined();
  });

  it('serves on a real socket', async () => {
    const base = await kit.listen();
    const response = await fetch(`${base}/health`);
    expect(await response.json()).toEqual({ ok: true });
  });
});
