import type { AppConfig } from '../../config';
import type { TriggerContext } from '../context';

/** What every route plugin receives: the configuration and the trigger service layer's context. */
export interface ApiDeps {
  config: AppConfig;
  ctx: TriggerContext;
  /** The clock used for replay windows and timestamps (tests pin it). */
  now?: () => Date;
}
