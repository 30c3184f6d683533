import type { Config } from '../src/config.ts';
import { createInboxAdapter } from './inbox/index.ts';
import { createLineAdapter } from './line/index.ts';
import { createMessengerAdapter } from './messenger/index.ts';
import type { ChannelAdapter, ChannelName } from './types.ts';

/** The registry: the only place that lists the channels. A channel whose variables are unset is off. */
export function createAdapters(config: Config): Partial<Record<ChannelName, ChannelAdapter>> {
  const adapters: Partial<Record<ChannelName, ChannelAdapter>> = {};
  if (config.line) adapters.line = createLineAdapter({ ...config.line, apiBaseUrl: config.LINE_API_BASE_URL });
  if (config.messenger) adapters.messenger = createMessengerAdapter({ ...config.messenger, graphBaseUrl: config.GRAPH_API_BASE_URL });
  if (config.inbox) adapters.inbox = createInboxAdapter(config.inbox);
  return adapters;
}
