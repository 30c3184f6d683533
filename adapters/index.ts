import type { Config } from '../src/config.ts';
import type { ChannelAdapter, ChannelName } from './types.ts';

/** The registry: the only place that lists the channels. A channel whose variables are unset is off. */
export function createAdapters(config: Config): Partial<Record<ChannelName, ChannelAdapter>> {
  const adapters: Partial<Record<ChannelName, ChannelAdapter>> = {};
  void config;
  return adapters;
}
