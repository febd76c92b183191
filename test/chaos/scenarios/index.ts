import type { Scenario } from '../result';
import { apiRestart } from './api-restart';
import { fleetCrossInstance } from './fleet-cross-instance';
import { fleetTemporalRestart, fleetWorkerKill } from './fleet-faults';
import { inDoubt } from './in-doubt';
import { postgresRestart } from './postgres-restart';
import { smtpOutage } from './smtp-outage';
import { temporalKill } from './temporal-kill';
import { twilioErrors } from './twilio-errors';
import { workerKill } from './worker-kill';

/** Every scenario: issue 10's in the order it lists them, then the fleet's (issue 11). */
export const SCENARIOS: Scenario[] = [
  workerKill,
  temporalKill,
  smtpOutage,
  twilioErrors,
  postgresRestart,
  apiRestart,
  inDoubt,
  fleetCrossInstance,
  fleetWorkerKill,
  fleetTemporalRestart,
];
