import type { ChannelEvent } from '../../adapters/types.ts';
import type { Tx } from '../db/client.ts';
import type { ContactRow, ConversationRow } from './contacts.ts';

/**
 * What answers a stored inbound event, inside the transaction that marks it processed (so its
 * effects commit exactly once with that mark). The inbound worker calls it for every event that
 * is not standby; the service wiring plugs the flow engine in. The default does nothing.
 * It answers, in a word, what became of the event (kept with it: `no-match` when nothing
 * answered a message), or nothing.
 */
export type InboundEventHandler = (tx: Tx, event: ChannelEvent, contact: ContactRow, conversation: ConversationRow) => Promise<string | void>;

export const ignoreInboundEvent: InboundEventHandler = async () => 'ignored';
