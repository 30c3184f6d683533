import { inboxPlugin } from './inbox/index.ts';
import { linePlugin } from './line/index.ts';
import { messengerPlugin } from './messenger/index.ts';
import type { ChannelAdapter, ChannelName, ChannelPlugin } from './types.ts';

/** The registry: the only place that lists the channels. A channel whose variables are unset is off. */
export const channelPlugins: readonly ChannelPlugin[] = [
  linePlugin as ChannelPlugin,
  messengerPlugin as ChannelPlugin,
  inboxPlugin as ChannelPlugin,
];

/** The adapters of the channels that are on, from each plug-in's options (`Config.channels`). */
export function createAdapters(
  plugins: readonly ChannelPlugin[], options: Readonly<Record<ChannelName, unknown>>,
): Record<ChannelName, ChannelAdapter> {
  const adapters: Record<ChannelName, ChannelAdapter> = {};
  for (const plugin of plugins) {
    if (options[plugin.name] !== undefined) adapters[plugin.name] = plugin.create(options[plugin.name]);
  }
  return adapters;
}

/** The names of the registered channels (on or off), for validating a channel named in input. */
export const channelNames = channelPlugins.map((p) => p.name) as [ChannelName, ...ChannelName[]];
