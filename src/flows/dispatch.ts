import type { ChannelEvent } from '../../adapters/types.ts';
import type { ContactRow, ConversationRow } from '../contacts/contacts.ts';
import type { AppContext } from '../context.ts';
import type { Tx } from '../db/client.ts';

/**
 * Called by the inbound worker for every stored event, inside the transaction that marks the
 * event processed: whatever it writes (outbox rows, flow state) commits with that mark.
 * Placeholder until the flow engine is written.
 */
export async function dispatchEvent(
  _ctx: AppContext, _tx: Tx, _event: ChannelEvent, _contact: ContactRow, _conversation: ConversationRow,
): Promise<void> {}
