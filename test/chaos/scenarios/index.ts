import type { Scenario } from '../result';
import { apiRestart } from './api-restart';
import { inDoubt } from './in-doubt';
import { postgresRestart } from './postgres-restart';
import { smtpOutage } from './smtp-outage';
import { temporalKill } from './temporal-kill';
import { twilioErrors } from './twilio-errors';
import { workerKill } from './worker-kill';

/** Every scenario, in the order issue 10 lists them. */
export const SCENARIOS: Scenario[] = [workerKill, temporalKill, smtpOutage, twilioErrors, postgresRestart, apiRestart, inDoubt];
