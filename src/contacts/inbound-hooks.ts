import type { ChannelEvent } from '../../adapters/types.ts';
import type { Tx } from '../db/client.ts';
import type { ContactRow, ConversationRow } from './contacts.ts';

/** One stored inbound event with its contact and conversation as they are after the event. */
export interface InboundItem {
  event: ChannelEvent;
  contact: ContactRow;
  conversation: ConversationRow;
}

/**
 * What answers stored inbound events, inside the transaction that marks them processed (so
 * their effects commit exactly once with those marks). The inbound worker calls it with the
 * events of a batch that are not standby, in order, each contact at most once per call (so the
 * handler may read each contact's state once for the whole call); the service wiring plugs the
 * flow engine in. The default does nothing. It answers, for each item in order and in a word,
 * what became of the event (kept with it: `no-match` when nothing answered a message), or nothing.
 */
export type InboundEventHandler = (tx: Tx, items: InboundItem[]) => Promise<Array<string | void>>;

export const ignoreInboundEvent: InboundEventHandler = async (_tx, items) => items.map(() => 'ignored');
