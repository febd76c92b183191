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
import { requireMarketerToken } from '../auth';
import type { ApiDeps } from '../deps';
import { idempotencyKeys, marketerIdentity } from '../idempotency';
import { CustomerJsonSchema, ErrorBodySchema, customerJson, CustomerParamsSchema, errorResponses, MARKETER_SECURITY, withBodyPaths } from '../schemas';

const TAGS = ['customers'];
/** Room for MAX_IMPORT_ROWS profiles of a few hundred bytes each. */
const IMPORT_BODY_LIMIT = 5 * 1024 * 1024;

const CSV_COLUMNS = 'customer_id, name, email, phone, timezone, locale, tier, preferred_channel, consent_email, consent_sms';

const ImportRejectionSchema = z.object({
  index: z.number().optional().describe('position in the JSON array (from 0)'),
  line: z.number().optional().describe('line in the CSV file (the header is line 1)'),
  id: z.string().optional(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })),
});
const ImportFailureSchema = ErrorBodySchema.extend({ rejected: z.array(ImportRejectionSchema).optional() }).describe(
  'Invalid request, or no valid profile (`rejected` lists every row and its bad fields)',
);
const ImportSummarySchema = z.object({
  imported: z.number(),
  created: z.number(),
  updated: z.number(),
  rejected: z.array(ImportRejectionSchema),
});

function isCsv(contentType: string | undefined): boolean {
  return /^text\/csv\b/i.test(contentType ?? '');
}

/** Marketer endpoints for customer profiles: add/update, read, consent, bulk import (JSON or CSV). */
export const customerRoutes: FastifyPluginAsyncZod<ApiDeps> = async (app, deps) => {
  const { store } = deps.ctx;
  app.addHook('onRequest', requireMarketerToken(deps.config.http.apiTokens));
  await app.register(idempotencyKeys, { store, identity: marketerIdentity });
  // Only this plugin's routes read CSV; the body stays text and the import service parses it.
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: IMPORT_BODY_LIMIT }, (_request, body, done) => done(null, body));

  app.put(
    '/customers/:id',
    {
      schema: {
        tags: TAGS,
        summary: 'Add or update a customer profile',
        description: 'Fields left out keep their stored value (a new customer gets the defaults); `name` is required for a new customer.',
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
      const { customer, created } = await withBodyPaths(() => upsertCustomerProfile(store, request.params.id, request.body));
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
        response: { 200: CustomerJsonSchema, ...errorResponses(404) },
      },
    },
    async (request) => customerJson(await getCustomerProfile(store, request.params.id)),
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
    async (request) => customerJson(await withBodyPaths(() => setCustomerConsent(deps.ctx, request.params.id, request.body))),
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
          `with a header row (${CSV_COLUMNS}). Valid profiles are saved, invalid ones are listed in \`rejected\` with their fields; ` +
          '400 when none is valid.',
        security: MARKETER_SECURITY,
        consumes: ['application/json', 'text/csv'],
        body: z
          .union([
            z.array(z.unknown().describe('a customer profile with its id; each row is validated on its own')).describe('application/json: profiles'),
            z.string().describe('text/csv: a header row, then one customer per line'),
          ])
          .describe('JSON array of profiles, or CSV text'),
        response: { 200: ImportSummarySchema, ...errorResponses(413, 415), 400: ImportFailureSchema },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const csv = isCsv(request.headers['content-type']);
      if (csv !== (typeof body === 'string')) {
        return reply.code(400).send({ error: 'Bad Request', message: 'send a JSON array of profiles (application/json) or CSV text (text/csv)' });
      }
      const summary = typeof body === 'string' ? await importCustomersCsv(store, body) : await importCustomers(store, body);
      if (summary.imported === 0) {
        return reply.code(400).send({ error: 'Bad Request', message: `no valid profile among ${summary.rejected.length}: see rejected`, rejected: summary.rejected });
      }
      return summary;
    },
  );
};
