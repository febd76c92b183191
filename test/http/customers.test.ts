import { API_TOKEN, startApiKit, type ApiKit, type Issue } from './api-kit';

describe('HTTP API: customers', () => {
  let kit: ApiKit;
  beforeAll(async () => {
    kit = await startApiKit();
  });
  afterAll(() => kit.close());

  const put = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
    kit.app.inject({ method: 'PUT', url, headers: { ...kit.auth, ...headers }, payload: payload as object });
  const paths = (body: { issues?: Issue[] }) => (body.issues ?? []).map((i) => i.path);

  describe('authentication', () => {
    // Valid requests (the last line proves it with the token), so only the missing or wrong token can refuse them.
    it.each([
      ['GET', '/customers/auth-probe', undefined],
      ['PUT', '/customers/auth-probe', { name: 'Changed', consentEmail: false }],
      ['PUT', '/customers/auth-probe/consent', { email: false }],
      ['POST', '/customers/import', [{ id: 'auth-probe-imported', name: 'Imported' }]],
    ] as const)('%s %s answers 401 without a token and 403 with a wrong one', async (method, url, payload) => {
      await kit.store.upsertCustomer({ id: 'auth-probe', name: 'Probe', email: 'probe@example.com', consentEmail: true, consentSms: false });
      const unchanged = () => kit.store.getCustomer('auth-probe');
      const before = await unchanged();

      const none = await kit.app.inject({ method, url, payload });
      expect(none.statusCode).toBe(401);
      expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
      const wrong = await kit.app.inject({ method, url, headers: { authorization: 'Bearer not-the-token' }, payload });
      expect(wrong.statusCode).toBe(403);
      expect(none.body).not.toContain('probe@example.com');
      expect(wrong.body).not.toContain('probe@example.com');
      expect(await unchanged()).toEqual(before);
      expect(await kit.store.getCustomer('auth-probe-imported')).toBeUndefined();

      expect((await kit.app.inject({ method, url, headers: kit.auth, payload })).statusCode).toBe(200);
    });
  });

  describe('PUT /customers/:id', () => {
    it('creates a profile (201), then updates only the fields sent (200)', async () => {
      const created = await put('/customers/ada', { name: 'Ada', email: 'ada@example.com', timezone: 'Europe/Paris', consentEmail: true });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({ id: 'ada', name: 'Ada', email: 'ada@example.com', timezone: 'Europe/Paris', locale: 'en', consentEmail: true, consentSms: false });

      const updated = await put('/customers/ada', { phone: '+15005550006', tier: 'gold', lastActivityAt: '2026-01-02T03:04:05Z' });
      expect(updated.statusCode).toBe(200);
      expect(updated.json()).toMatchObject({ name: 'Ada', email: 'ada@example.com', phone: '+15005550006', timezone: 'Europe/Paris', tier: 'gold', consentEmail: true, lastActivityAt: '2026-01-02T03:04:05.000Z' });
      const stored = await kit.store.getCustomer('ada');
      expect(stored).toMatchObject({ phone: '+15005550006', tier: 'gold', timezone: 'Europe/Paris', consentEmail: true });
    });

    it('reads a profile back, and answers 404 for an unknown customer', async () => {
      await put('/customers/grace', { name: 'Grace', email: 'grace@example.com' });
      const found = await kit.app.inject({ method: 'GET', url: '/customers/grace', headers: kit.auth });
      expect(found.statusCode).toBe(200);
      expect(found.json()).toMatchObject({ id: 'grace', name: 'Grace', email: 'grace@example.com', createdAt: expect.stringMatching(/^\d{4}-/) });
      const missing = await kit.app.inject({ method: 'GET', url: '/customers/nobody', headers: kit.auth });
      expect(missing.statusCode).toBe(404);
      expect(missing.json().message).toMatch(/nobody/);
    });

    it('answers 404 to a change of an unknown customer that lacks the name to add it', async () => {
      const response = await put('/customers/nameless', { email: 'x@example.com' });
      expect(response.statusCode).toBe(404);
      expect(response.json().message).toMatch(/send its name/);
      expect(await kit.store.getCustomer('nameless')).toBeUndefined();
    });

    it('answers 400 naming every bad field', async () => {
      const response = await put('/customers/bad', { name: 'Bad', email: 'not-an-email', phone: '555', timezone: 'Mars/Olympus', locale: 'English', points: -1, preferredChannel: 'fax' });
      expect(response.statusCode).toBe(400);
      expect(paths(response.json()).sort()).toEqual(['body.email', 'body.locale', 'body.phone', 'body.points', 'body.preferredChannel', 'body.timezone']);
      expect(response.json().issues.find((i: Issue) => i.path === 'body.timezone').message).toMatch(/IANA/);
    });

    it.each([
      ['a wrong type', { name: 42, consentEmail: 'yes' }, ['body.consentEmail', 'body.name']],
      ['an unknown field', { name: 'X', consent_email: true }, ['body']],
      ['an extra-long name', { name: 'x'.repeat(10_000) }, ['body.name']],
      ['a bad activity time', { name: 'X', lastActivityAt: 'yesterday' }, ['body.lastActivityAt']],
      ['an array', [{ name: 'X' }], ['body']],
    ])('answers 400, not 500, to %s', async (_what, payload, expected) => {
      const response = await put('/customers/typo', payload);
      expect(response.statusCode).toBe(400);
      expect(paths(response.json()).sort()).toEqual(expected);
    });

    it('answers 4xx, not 500, to bad ids, malformed JSON and unknown content types', async () => {
      const blankId = await put('/customers/%20%20', { name: 'Blank' });
      expect(blankId.statusCode).toBe(400);
      expect(paths(blankId.json())).toEqual(['params.id']);
      // Fastify refuses path parameters longer than its maxParamLength before routing.
      const longId = await put(`/customers/${'x'.repeat(5_000)}`, { name: 'Long' });
      expect(longId.statusCode).toBe(414);
      const badJson = await put('/customers/json', '{"name": "Ada",', { 'content-type': 'application/json' });
      expect(badJson.statusCode).toBe(400);
      const noBody = await kit.app.inject({ method: 'PUT', url: '/customers/empty', headers: kit.auth });
      expect(noBody.statusCode).toBe(400);
      const text = await put('/customers/text', 'name=Ada', { 'content-type': 'text/plain' });
      expect(text.statusCode).toBe(400);
      const xml = await put('/customers/xml', '<name>Ada</name>', { 'content-type': 'application/xml' });
      expect(xml.statusCode).toBe(415);
      const csv = await put('/customers/csv', 'customer_id,name\ncsv,Ada\n', { 'content-type': 'text/csv' });
      expect(csv.statusCode).toBe(400);
      expect(await kit.store.getCustomer('csv')).toBeUndefined();
    });
  });

  describe('PUT /customers/:id/consent', () => {
    it('sets consent per channel, keeping the channel not sent', async () => {
      await put('/customers/lin', { name: 'Lin', email: 'lin@example.com', phone: '+15005550007', consentEmail: true, consentSms: false });
      const response = await put('/customers/lin/consent', { sms: true });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ consentEmail: true, consentSms: true });
      const again = await put('/customers/lin/consent', { email: false, sms: false });
      expect(again.json()).toMatchObject({ consentEmail: false, consentSms: false });
      expect(await kit.store.getCustomer('lin')).toMatchObject({ consentEmail: false, consentSms: false });
    });

    it('shows each channel\'s latest consent change with its source, time and evidence', async () => {
      const shownFor = async (id: string) => (await kit.app.inject({ method: 'GET', url: `/customers/${id}`, headers: kit.auth })).json().consentProvenance;
      // Never given: nothing to show.
      await put('/customers/prov-none', { name: 'None' });
      expect(await shownFor('prov-none')).toEqual({ email: null, sms: null });
      // Given by the profile that added the customer, and by an import row.
      await put('/customers/prov', { name: 'Prov', email: 'prov@example.com', phone: '+15005550008', consentEmail: true, consentSms: true });
      expect(await shownFor('prov')).toMatchObject({ email: { granted: true, source: 'profile', evidence: 'API token "token-1"' }, sms: { granted: true, source: 'profile' } });
      await kit.app.inject({ method: 'POST', url: '/customers/import', headers: kit.auth, payload: [{ id: 'prov-none', consentSms: true }] });
      expect(await shownFor('prov-none')).toEqual({ email: null, sms: { granted: true, source: 'import', evidence: 'API token "token-1", row 0', at: expect.any(String) } });
      const before = Date.now();
      await put('/customers/prov/consent', { email: false });
      const unsubscribe = { type: 'unsubscribe', channel: 'sms' };
      await kit.app.inject({ method: 'POST', url: '/customers/prov/events', headers: kit.auth, payload: unsubscribe });
      const shown = (await kit.app.inject({ method: 'GET', url: '/customers/prov', headers: kit.auth })).json();
      // The kit's one bare token is named token-1 (README, API_TOKENS); the token itself never shows.
      expect(shown.consentProvenance).toEqual({
        email: { granted: false, source: 'api', evidence: 'API token "token-1"', at: expect.any(String) },
        sms: { granted: false, source: 'api-event', evidence: 'API token "token-1"', at: expect.any(String) },
      });
      expect(Date.parse(shown.consentProvenance.email.at)).toBeGreaterThanOrEqual(before - 1000);
      expect(JSON.stringify(shown)).not.toContain(API_TOKEN);
    });

    it('answers 404 for an unknown customer and 400 for an empty or wrong change', async () => {
      expect((await put('/customers/ghost/consent', { email: true })).statusCode).toBe(404);
      await put('/customers/mo', { name: 'Mo' });
      const empty = await put('/customers/mo/consent', {});
      expect(empty.statusCode).toBe(400);
      expect(paths(empty.json())).toEqual(['body']);
      const wrong = await put('/customers/mo/consent', { email: 'yes', fax: true });
      expect(wrong.statusCode).toBe(400);
      expect(paths(wrong.json()).sort()).toEqual(['body', 'body.email']);
    });
  });

  describe('POST /customers/import', () => {
    const importJson = (payload: unknown) => kit.app.inject({ method: 'POST', url: '/customers/import', headers: kit.auth, payload: payload as object });
    const importCsv = (text: string) =>
      kit.app.inject({ method: 'POST', url: '/customers/import', headers: { ...kit.auth, 'content-type': 'text/csv; charset=utf-8' }, payload: text });

    it('imports the valid profiles of a JSON batch and lists the rejected ones with their fields', async () => {
      await put('/customers/imp-known', { name: 'Known', email: 'known@example.com' });
      const response = await importJson([
        { id: 'imp-1', name: 'One', email: 'one@example.com', consentEmail: true },
        { id: 'imp-2', name: 'Two', email: 'broken' },
        { id: 'imp-known', tier: 'silver' },
        { name: 'No id' },
        { id: 'imp-3', email: 'three@example.com' },
        { id: 'imp-4', name: 'Four', timezone: 'Asia/Tokyo', points: 10 },
      ]);
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(body).toMatchObject({ imported: 3, created: 2, updated: 1 });
      expect(body.rejected).toEqual([
        { index: 1, id: 'imp-2', issues: [{ path: 'email', message: expect.any(String) }] },
        { index: 3, issues: [{ path: 'id', message: expect.any(String) }] },
        { index: 4, id: 'imp-3', issues: [{ path: 'name', message: expect.stringMatching(/new customer/) }] },
      ]);
      expect(await kit.store.getCustomer('imp-1')).toMatchObject({ name: 'One', consentEmail: true });
      expect(await kit.store.getCustomer('imp-4')).toMatchObject({ timezone: 'Asia/Tokyo', points: 10 });
      expect(await kit.store.getCustomer('imp-known')).toMatchObject({ name: 'Known', email: 'known@example.com', tier: 'silver' });
      expect(await kit.store.getCustomer('imp-2')).toBeUndefined();
      expect(await kit.store.getCustomer('imp-3')).toBeUndefined();
    });

    it('imports CSV with a header row, rejecting bad rows by line and column', async () => {
      const csv = [
        'customer_id,name,email,consent_email,timezone',
        'csv-1,Csv One,csv1@example.com,yes,Europe/Berlin',
        'csv-2,Csv Two,not-an-email,yes,',
        'csv-3,Csv Three,csv3@example.com,maybe,',
        'csv-4,"Quoted, Name",csv4@example.com,no,',
        'csv-5,Too,many,columns,here,really',
        '',
      ].join('\n');
      const response = await importCsv(csv);
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(body).toMatchObject({ imported: 2, created: 2, updated: 0 });
      expect(body.rejected).toEqual([
        { line: 3, id: 'csv-2', issues: [{ path: 'email', message: expect.any(String) }] },
        { line: 4, id: 'csv-3', issues: [{ path: 'consent_email', message: expect.stringMatching(/true or false/) }] },
        { line: 6, id: 'csv-5', issues: [{ path: '(row)', message: expect.stringMatching(/columns/) }] },
      ]);
      expect(await kit.store.getCustomer('csv-1')).toMatchObject({ name: 'Csv One', consentEmail: true, timezone: 'Europe/Berlin' });
      expect(await kit.store.getCustomer('csv-4')).toMatchObject({ name: 'Quoted, Name', consentEmail: false });
    });

    it('answers 200 with imported 0 and every rejection when no profile is valid', async () => {
      const response = await importJson([{ id: 'bad-1', name: 'B', email: 'x' }, { id: '' }]);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ imported: 0, created: 0, updated: 0 });
      expect(response.json().rejected.map((r: { index: number }) => r.index)).toEqual([0, 1]);
      expect(await kit.store.getCustomer('bad-1')).toBeUndefined();
    });

    it('answers 400, not 500, to batches it cannot read', async () => {
      const tooMany = await importJson(Array.from({ length: 5001 }, (_, i) => ({ id: `many-${i}`, name: 'M' })));
      expect(tooMany.statusCode).toBe(400);
      expect(tooMany.json().issues).toEqual([{ path: 'body', message: expect.stringMatching(/5000/) }]);
      expect(await kit.store.getCustomer('many-0')).toBeUndefined();

      const tooManyCsv = await importCsv(['customer_id,name', ...Array.from({ length: 5001 }, (_, i) => `many-csv-${i},M`)].join('\n'));
      expect(tooManyCsv.statusCode).toBe(400);
      expect(tooManyCsv.json().message).toMatch(/5000/);
      expect(await kit.store.getCustomer('many-csv-0')).toBeUndefined();

      expect((await importJson([])).statusCode).toBe(400);
      // Rows are objects (the document says so); another value is a malformed batch, named by its position.
      const notAnObject = await importJson([{ id: 'row-0', name: 'R' }, 'not an object']);
      expect(notAnObject.statusCode).toBe(400);
      expect(paths(notAnObject.json())).toEqual(['body.1']);
      expect(await kit.store.getCustomer('row-0')).toBeUndefined();
      expect((await importJson({ id: 'x', name: 'X' })).statusCode).toBe(400);
      const jsonString = await kit.app.inject({ method: 'POST', url: '/customers/import', headers: { ...kit.auth, 'content-type': 'application/json' }, payload: '"just a string"' });
      expect(jsonString.statusCode).toBe(400);
      const badHeader = await importCsv('id,full_name\nx,X\n');
      expect(badHeader.statusCode).toBe(400);
      expect(paths(badHeader.json())).toEqual(['header']);
      expect((await importCsv('')).statusCode).toBe(400);
      const badJson = await kit.app.inject({ method: 'POST', url: '/customers/import', headers: { ...kit.auth, 'content-type': 'application/json' }, payload: '[{"id":' });
      expect(badJson.statusCode).toBe(400);
      const wrongType = await kit.app.inject({ method: 'POST', url: '/customers/import', headers: { ...kit.auth, 'content-type': 'application/xml' }, payload: '<a/>' });
      expect(wrongType.statusCode).toBe(415);
      const huge = await importCsv(`customer_id,name\n${'x'.repeat(6 * 1024 * 1024)},X\n`);
      expect(huge.statusCode).toBe(413);
    });

    it('imports a full batch of 5000 profiles', async () => {
      const response = await importJson(Array.from({ length: 5000 }, (_, i) => ({ id: `bulk-${i}`, name: `Bulk ${i}`, email: `bulk${i}@example.com` })));
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ imported: 5000, created: 5000, rejected: [] });
      expect(await kit.store.getCustomer('bulk-4999')).toMatchObject({ email: 'bulk4999@example.com' });
    });
  });

  it('describes its routes in the OpenAPI document', async () => {
    const doc = (await kit.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    for (const [path, method] of [
      ['/customers/{id}', 'put'],
      ['/customers/{id}', 'get'],
      ['/customers/{id}/consent', 'put'],
      ['/customers/import', 'post'],
    ]) {
      const operation = doc.paths[path as string]?.[method as string];
      expect(operation).toMatchObject({ tags: ['customers'], security: [{ apiToken: [] }] });
    }
    expect(doc.paths['/customers/{id}'].put.requestBody.content['application/json'].schema.properties).toHaveProperty('email');
    expect(Object.keys(doc.paths['/customers/import'].post.requestBody.content)).toEqual(expect.arrayContaining(['application/json', 'text/csv']));
  });
});
