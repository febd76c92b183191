import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ConsentChangeSchema,
  CustomerProfileFieldsSchema,
  getCustomerProfile,
  importCustomers,
  importCustomersCsv,
  MAX_IMPORT_ROWS,
  setCustomerConsent,
  upsertCustomerProfile,
} from '../../customers';
import { marketerAuth } from '../auth';
import type { ApiDeps } from '../deps';
import { idempotencyKeys, marketerIdentity } from '../idempotency';
import {
  consentProvenanceJson,
  CustomerJsonSchema,
  customerJson,
  CustomerParamsSchema,
  CustomerWithProvenanceSchema,
  errorResponses,
  MARKETER_SECURITY,
  tokenEvidence,
  withBodyPaths,
} from '../schemas';

const TAGS = ['customers'];
/** Room for MAX_IMPORT_ROWS profiles of a few hundred bytes each. */
const IMPORT_BODY_LIMIT = 5 * 1024 * 1024;

const CSV_COLUMNS = 'customer_id, name, email, phone, timezone, locale, tier, preferred_channel, consent_email, consent_sms';
/**
 * The CSV the document describes: `customer_id` and the other columns once each, in this order, then at least one
 * line. The import also reads any column order, any case and quoted names (the document gives the plain form).
 */
const CSV_WITH_ROWS_PATTERN = `^\\uFEFF?customer_id${CSV_COLUMNS.split(', ')
  .slice(1)
  .map((column) => `(,${column})?`)
  .join('')}(\\r?\\n)+[^\\r\\n]+[\\s\\S]*$`;

const JsonImportSchema = z
  .array(z.looseObject({}).describe('a customer profile with its id; each row is validated on its own'))
  .min(1, 'expected at least one customer profile')
  .max(MAX_IMPORT_ROWS, `at most ${MAX_IMPORT_ROWS} profiles per import: split the file`)
  .describe('profiles');
const CsvImportSchema = z.string().meta({ pattern: CSV_WITH_ROWS_PATTERN }).describe('a header row, then one customer per line');

const ImportRejectionSchema = z.object({
  index: z.number().optional().describe('position in the JSON array (from 0)'),
  line: z.number().optional().describe('line in the CSV file (the header is line 1)'),
  id: z.string().optional(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })),
});
const ImportSummarySchema = z.object({
  imported: z.number(),
  created: z.number(),
  updated: z.number(),
  rejected: z.array(ImportRejectionSchema),
});

/** Marketer endpoints for customer profiles: add/update, read, consent, bulk import (JSON or CSV). */
export const customerRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, deps) => {
  const { store } = deps.ctx;
  await app.register(marketerAuth, { tokens: deps.config.http.apiTokens, read: 'customers:read', write: 'customers:write' });
  await app.register(idempotencyKeys, { store, identity: marketerIdentity });
  // Only this plugin's routes read CSV; the body stays text and the import service parses it.
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: IMPORT_BODY_LIMIT }, (_request, body, done) => done(null, body));

  app.put(
    '/customers/:id',
    {
      schema: {
        tags: TAGS,
        summary: 'Add or update a customer profile',
        description:
          'Fields left out keep their stored value (a new customer gets the defaults). `name` adds a new customer: without it, an unknown id is 404.',
        security: MARKETER_SECURITY,
        params: CustomerParamsSchema,
        body: CustomerProfileFieldsSchema,
        response: {
          200: CustomerJsonSchema.describe('Updated'),
          201: CustomerJsonSchema.describe('Created'),
          ...errorResponses(),
        },
      },
    },
    async (request, reply) => {
      const provenance = { source: 'profile', evidence: tokenEvidence(request) } as const;
      const { customer, created } = await withBodyPaths(() => upsertCustomerProfile(deps.ctx, request.params.id, request.body, provenance));
      return reply.code(created ? 201 : 200).send(customerJson(customer));
    },
  );

  app.get(
    '/customers/:id',
    {
      schema: {
        tags: TAGS,
        summary: 'A customer profile',
        security: MARKETER_SECURITY,
        params: CustomerParamsSchema,
        response: { 200: CustomerWithProvenanceSchema, ...errorResponses(404) },
      },
    },
    async (request) => {
      const customer = await getCustomerProfile(store, request.params.id);
      return { ...customerJson(customer), consentProvenance: consentProvenanceJson(await store.latestConsentChanges(customer.id)) };
    },
  );

  app.put(
    '/customers/:id/consent',
    {
      schema: {
        tags: TAGS,
        summary: "Set a customer's marketing consent per channel",
        description: 'Channels left out keep their consent. Messages check consent when they are sent.',
        security: MARKETER_SECURITY,
        params: CustomerParamsSchema,
        body: ConsentChangeSchema,
        response: { 200: CustomerJsonSchema, ...errorResponses(404) },
      },
    },
    async (request) =>
      customerJson(await withBodyPaths(() => setCustomerConsent(deps.ctx, request.params.id, request.body, { source: 'api', evidence: tokenEvidence(request) }))),
  );

  app.post(
    '/customers/import',
    {
      bodyLimit: IMPORT_BODY_LIMIT,
      schema: {
        tags: TAGS,
        summary: 'Import customer profiles (JSON array or CSV)',
        description:
          `Up to ${MAX_IMPORT_ROWS} profiles: a JSON array of profiles with \`id\` (fields as for PUT /customers/{id}), or \`text/csv\` ` +
          `with a header row (${CSV_COLUMNS}). Each row is checked on its own: valid profiles are saved, invalid ones are listed ` +
          'in `rejected` with their fields (a batch with no valid row saves nothing and answers 200 with imported 0).',
        security: MARKETER_SECURITY,
        // One schema per content type (Fastify validates by the request's type; see contract.ts for the document).
        body: { content: { 'application/json': { schema: JsonImportSchema }, 'text/csv': { schema: CsvImportSchema } } },
        response: { 200: ImportSummarySchema, ...errorResponses(413, 415) },
      },
    },
    async (request) => {
      const body = request.body as z.infer<typeof JsonImportSchema> | z.infer<typeof CsvImportSchema>;
      const provenance = { source: 'import', evidence: tokenEvidence(request) } as const;
      return typeof body === 'string' ? await importCustomersCsv(deps.ctx, body, provenance) : await importCustomers(deps.ctx, body, provenance);
    },
  );
};
