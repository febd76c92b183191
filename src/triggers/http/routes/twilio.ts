import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { twiml } from 'twilio';
import { z } from 'zod';
import { handleInboundSms, recordDeliveryReport, type SmsKeyword } from '../../consent';
import type { ApiDeps } from '../deps';
import { verifyTwilioSignature } from '../signatures';

const SIGNED =
  'Signed by Twilio: X-Twilio-Signature is checked against TWILIO_AUTH_TOKEN, PUBLIC_BASE_URL + path and every posted parameter (403 when it does not match).';

// Loose on purpose: Twilio adds parameters without notice, and they are part of the signature anyway.
const InboundSmsBody = z.looseObject({
  From: z.string().trim().min(1, 'expected the sender number'),
  Body: z.string().default(''),
  OptOutType: z.string().optional().describe('STOP, START or HELP when Twilio Advanced Opt-Out handled the message'),
  MessageSid: z.string().optional(),
});

const StatusCallbackBody = z.looseObject({
  MessageSid: z.string().trim().min(1, 'expected the message SID'),
  MessageStatus: z.string().trim().min(1, 'expected the message status'),
  ErrorCode: z.string().optional(),
  To: z.string().optional(),
});

const TWILIO_SECURITY = [{ twilioSignature: [] }];
const NOT_FROM_TWILIO = { description: 'The Twilio signature is missing or does not match', content: { 'text/plain': { schema: z.string() } } };

/** How long an inbound message's MessageSid is remembered: Twilio's retries come within minutes. */
const INBOUND_DEDUP_MS = 7 * 24 * 60 * 60_000;

function twimlReply(reply: FastifyReply, message?: string) {
  const response = new twiml.MessagingResponse();
  if (message) response.message(message);
  return reply.code(200).type('text/xml; charset=utf-8').send(response.toString());
}

function confirmation(keyword: SmsKeyword, brandName: string): string {
  switch (keyword) {
    case 'stop':
      return `${brandName}: you are unsubscribed and will get no more text messages from us. Reply START to opt back in.`;
    case 'start':
      return `${brandName}: you are subscribed to text messages again. Reply STOP to opt out, HELP for help.`;
    case 'help':
      return `${brandName}: customer care messages. Reply STOP to opt out, START to opt back in. Msg & data rates may apply.`;
  }
}

/**
 * Twilio's webhooks: inbound SMS (opt-out keywords, answered with TwiML) and message status callbacks. The
 * signature is checked over the public URL Twilio called and all posted parameters before anything is parsed.
 */
export const twilioRoutes: FastifyPluginAsyncZod<ApiDeps & { twilioAuthToken: string }> = async (app, deps) => {
  const { config, ctx, twilioAuthToken } = deps;
  const now = deps.now ?? (() => new Date());

  app.addHook('preValidation', async (request, reply) => {
    const params = request.body !== null && typeof request.body === 'object' ? (request.body as Record<string, unknown>) : {};
    const url = config.http.publicBaseUrl + request.url;
    if (!verifyTwilioSignature(twilioAuthToken, request.headers['x-twilio-signature'], url, params)) {
      return reply.code(403).type('text/plain; charset=utf-8').send('Twilio signature missing or not valid');
    }
  });

  app.post(
    '/webhooks/twilio/inbound',
    {
      schema: {
        summary: 'Inbound SMS (Twilio messaging webhook)',
        description: `A message is handled once per MessageSid (a retried delivery gets an empty TwiML answer). STOP/STOPALL/UNSUBSCRIBE/CANCEL/END/QUIT/REVOKE/OPTOUT withdraw SMS consent and suppress the number; START/YES/UNSTOP/OPTIN give consent back; HELP/INFO get the help text. Twilio's OptOutType takes precedence; when it is present Twilio has already replied, so the TwiML is empty. ${SIGNED}`,
        tags: ['twilio'],
        security: TWILIO_SECURITY,
        consumes: ['application/x-www-form-urlencoded'],
        body: InboundSmsBody,
        response: {
          200: { description: 'TwiML: the reply to send, or none', content: { 'text/xml': { schema: z.string() } } },
          403: NOT_FROM_TWILIO,
        },
      },
    },
    async (request, reply) => {
      const { From, Body, OptOutType, MessageSid } = request.body;
      // Twilio retries a webhook it got no answer to: a STOP retried after the customer's START must not undo it.
      const claim = MessageSid && `twilio-inbound:${MessageSid}`;
      if (claim && !(await ctx.store.claimSignature(claim, new Date(now().getTime() + INBOUND_DEDUP_MS), now()))) {
        request.log.info({ messageSid: MessageSid }, 'inbound sms already handled');
        return twimlReply(reply);
      }
      let handled: Awaited<ReturnType<typeof handleInboundSms>>;
      try {
        handled = await handleInboundSms(ctx, { from: From, body: Body, optOutType: OptOutType, messageSid: MessageSid }, now());
      } catch (err) {
        if (claim) await ctx.store.releaseSignature(claim);
        throw err;
      }
      const { keyword, customerIds } = handled;
      request.log.info({ keyword: keyword ?? 'none', customers: customerIds.length }, 'inbound sms');
      if (!keyword) return twimlReply(reply);
      // Advanced Opt-Out (OptOutType present) has already answered STOP/START; HELP text is ours to send.
      if (OptOutType && keyword !== 'help') return twimlReply(reply);
      return twimlReply(reply, confirmation(keyword, config.brandName));
    },
  );

  app.post(
    '/webhooks/twilio/status',
    {
      schema: {
        summary: 'Message status callback (Twilio)',
        description: `Answers 204. Records the delivery status of a sent message (only ever forward: late and repeated callbacks change nothing) and, on delivered/undelivered/failed, an outcome row for the funnel. ErrorCode 21610 suppresses the recipient number. ${SIGNED}`,
        tags: ['twilio'],
        security: TWILIO_SECURITY,
        consumes: ['application/x-www-form-urlencoded'],
        body: StatusCallbackBody,
        response: { 204: z.null().describe('Recorded'), 403: NOT_FROM_TWILIO },
      },
    },
    async (request, reply) => {
      const { MessageSid, MessageStatus, ErrorCode, To } = request.body;
      await recordDeliveryReport(ctx, {
        providerMessageId: MessageSid,
        channel: 'sms',
        status: MessageStatus.toLowerCase(),
        errorCode: ErrorCode || undefined,
        to: To,
        at: now(),
      });
      return reply.code(204).send(null);
    },
  );
};
