import { userInfo } from 'node:os';
import { Argument, type Command } from 'commander';
import { messageSchemas } from '../../shared/messages';
import { openComplaint, reportComplaintProgress } from '../complaints';
import { recordCustomerEvent } from '../customer-events';
import { printLine, withClient, withTriggerContext, type CliRun } from './io';
import { positiveNumber } from './options';

const EVENT_TYPES = messageSchemas().customerEvent.options.map((o) => o.shape.type.value);
const SUPPORT_UPDATE_TYPES = messageSchemas().supportUpdate.options.map((o) => o.shape.type.value);

export function registerEventCommands(program: Command, run: CliRun): void {
  program
    .command('event')
    .description("record a customer event: stored (consent, last activity) and delivered to the customer's running journeys")
    .argument('<customerId>', 'the customer')
    .addArgument(new Argument('<type>', 'what happened').choices(EVENT_TYPES))
    .option('--amount <n>', 'purchase: order amount', positiveNumber)
    .option('--order <id>', 'purchase: order id')
    .option('--channel <channel>', 'unsubscribe/resubscribe: email, sms or all; channel-preference: email or sms')
    .addHelpText('after', '\nA purchase or activation for a customer with no running journey starts nurture with it.')
    .action(async (customerId: string, type: string, opts: { amount?: number; order?: string; channel?: string }) => {
      await withTriggerContext(run.io, async (ctx) => {
        const { event, deliveredTo } = await recordCustomerEvent(
          ctx,
          customerId,
          { type, amount: opts.amount, orderId: opts.order, channel: opts.channel },
          new Date(),
          {},
          { source: 'cli', evidence: `retention event, run by ${userInfo().username}` },
        );
        const target = deliveredTo.length > 0 ? `delivered to ${deliveredTo.join(', ')}` : 'no running journey to deliver it to';
        printLine(run.io.stdout, `recorded ${event.type} for ${customerId}; ${target}`);
      });
    });

  const complaint = program.command('complaint').description('complaint resolution journeys, one per support ticket');
  complaint
    .command('open')
    .description('start complaint resolution for a support ticket (repeating it returns the open journey)')
    .argument('<ticketId>', 'the support ticket id')
    .requiredOption('--customer <id>', 'the customer who complained')
    .option('--subject <text>', 'ticket subject, used in messages')
    .option('--campaign <id>', 'complaint campaign id (default: <CAMPAIGNS_DIR>/complaint.json)')
    .action(async (ticketId: string, opts: { customer: string; subject?: string; campaign?: string }) => {
      await withTriggerContext(run.io, async (ctx) => {
        const result = await openComplaint(ctx, { ticketId, customerId: opts.customer, subject: opts.subject, campaignId: opts.campaign });
        printLine(run.io.stdout, result.started ? `opened ${result.workflowId} (run ${result.runId})` : `already open: ${result.workflowId}`);
      });
    });
  complaint
    .command('update')
    .description("relay support progress to the ticket's complaint journey")
    .argument('<ticketId>', 'the support ticket id')
    .addArgument(new Argument('<progress>', 'what support did').choices(SUPPORT_UPDATE_TYPES))
    .option('--note <text>', 'a note from the agent')
    .action(async (ticketId: string, progress: string, opts: { note?: string }) => {
      await withClient(run.io, async (client) => {
        const { workflowId, update } = await reportComplaintProgress({ client }, ticketId, { type: progress, note: opts.note });
        printLine(run.io.stdout, `sent ${update.type} to ${workflowId}`);
      });
    });
}
