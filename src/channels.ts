import type { ChannelCapabilities, ChannelName } from '../adapters/types.ts';
import type { AppContext } from './context.ts';

// eslint-disable-next-line no-control-regex
const controlCharacters = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** For a channel no plug-in declares (events stored before it was removed): plain, short texts. */
const unknownChannel: ChannelCapabilities = {
  maxTextLength: 2000,
  escapeText: (value) => value.replace(controlCharacters, ''),
  conversations: 'per-user',
  broadcast: false,
};

/** What a channel's plug-in declares about the platform (reply tokens, window, texts, conversations). */
export function channelCapabilities(ctx: Pick<AppContext, 'channelPlugins'>, channel: ChannelName): ChannelCapabilities {
  return ctx.channelPlugins.find((p) => p.name === channel)?.capabilities ?? unknownChannel;
}

/** Whether a plug-in declares this channel (on or off). */
export function isKnownChannel(ctx: Pick<AppContext, 'channelPlugins'>, channel: string): boolean {
  return ctx.channelPlugins.some((p) => p.name === channel);
}

/** Each declared channel's name as people read it (`LINE`), for the consoles, whether it is on or off. */
export function channelLabels(ctx: Pick<AppContext, 'channelPlugins'>): Record<string, string> {
  return Object.fromEntries(ctx.channelPlugins.map((p) => [p.name, p.capabilities.label ?? p.name]));
}

/** What shops call a channel (`LINE`), as its plug-in says; its name otherwise. */
export function channelTitle(ctx: Pick<AppContext, 'channelPlugins'>, channel: ChannelName): string {
  return channelCapabilities(ctx, channel).label ?? channel;
}
