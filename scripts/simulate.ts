/**
 * npm run simulate — chat with the bot as a LINE user, in the terminal.
 *
 * It plays both sides of LINE around a running service: it sends signed webhooks to the service
 * as LINE would, and it stands in for LINE's Messaging API, so what the bot replies or pushes is
 * printed here. Start it, then start the service pointed at it:
 *
 *   npm run simulate                      # prints the stand-in's address, e.g. http://localhost:4010
 *   LINE_API_BASE_URL=http://localhost:4010 npm start     # in another terminal
 *
 * The service and the simulator must share LINE_CHANNEL_SECRET (read from the environment or
 * .env); LINE_CHANNEL_ACCESS_TOKEN must be set for the service (any value works here).
 *
 * On start it sends a follow event; then every line you type is a text message. Commands:
 *   /postback <data>   a postback (what a postback button sends)
 *   #<n>               tap quick reply n of the bot's last message
 *   /follow, /unfollow the user (un)blocks the account
 *   /help, /quit
 * Options: --url <service URL> (default http://localhost:3000), --port <stand-in port>
 * (default 4010), --user <LINE user id> (default: a new user each run), --name <display name>.
 */
import 'dotenv/config';
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { startLineStandin, type StandinRequest } from './support/line-standin.ts';
import {
  followEvent, newLineUserId, postbackEvent, postLineWebhook, textEvent, unfollowEvent, type LineWebhookEvent,
} from './support/line-webhook.ts';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.SIMULATE_URL ?? 'http://localhost:3000' },
    port: { type: 'string', default: process.env.SIMULATE_LINE_PORT ?? '4010' },
    user: { type: 'string' },
    name: { type: 'string', default: 'Simulated User' },
  },
});

const secret = process.env.LINE_CHANNEL_SECRET;
if (!secret) {
  console.error('LINE_CHANNEL_SECRET is not set: set it (in .env or the environment) to the same value the service uses.');
  process.exit(1);
}
const serviceUrl = args.url.replace(/\/+$/, '');
const userId = args.user ?? newLineUserId();

type QuickReplyAction = { type: string; label?: string; text?: string; data?: string; displayText?: string };
let quickReplies: QuickReplyAction[] = [];

const color = process.stdout.isTTY
  ? { dim: (s: string) => `\x1b[2m${s}\x1b[0m`, bot: (s: string) => `\x1b[36m${s}\x1b[0m`, err: (s: string) => `\x1b[31m${s}\x1b[0m` }
  : { dim: (s: string) => s, bot: (s: string) => s, err: (s: string) => s };

/** Every text and button of a Flex component tree, in reading order. */
function flexLines(node: unknown, out: string[] = []): string[] {
  if (!node || typeof node !== 'object') return out;
  const n = node as Record<string, unknown>;
  if (n.type === 'text' && typeof n.text === 'string') out.push(n.text);
  if (n.type === 'image' && typeof n.url === 'string') out.push(`[image ${n.url}]`);
  if (n.type === 'button') {
    const action = n.action as { label?: string; uri?: string; data?: string } | undefined;
    out.push(`[${action?.label ?? 'button'}] ${action?.uri ?? action?.data ?? ''}`.trim());
  }
  for (const key of ['hero', 'header', 'body', 'footer']) flexLines(n[key], out);
  if (Array.isArray(n.contents)) for (const c of n.contents) flexLines(c, out);
  else if (n.contents && typeof n.contents === 'object') flexLines(n.contents, out);
  return out;
}

function describeMessage(message: Record<string, unknown>): string[] {
  switch (message.type) {
    case 'text':
      return String(message.text ?? '').split('\n');
    case 'image':
      return [`[image ${String(message.originalContentUrl ?? '')}]`];
    case 'flex': {
      const lines = flexLines(message.contents);
      const width = Math.max(...lines.map((l) => l.length), 10);
      return [`┌${'─'.repeat(width + 2)}┐`, ...lines.map((l) => `│ ${l.padEnd(width)} │`), `└${'─'.repeat(width + 2)}┘`];
    }
    case 'template': {
      const t = message.template as { text?: string; actions?: Array<{ label?: string; uri?: string }> } | undefined;
      return [t?.text ?? String(message.altText ?? ''), ...(t?.actions ?? []).map((a) => `[${a.label ?? ''}] ${a.uri ?? ''}`.trim())];
    }
    default:
      return [`(${String(message.type)} message) ${String(message.altText ?? '')}`];
  }
}

function printDelivery(req: StandinRequest): void {
  const body = req.body as { to?: string; messages?: Array<Record<string, unknown>> };
  if (req.kind === 'push' && body.to !== userId) return;
  const out: string[] = [];
  for (const message of body.messages ?? []) {
    const [first, ...rest] = describeMessage(message);
    out.push(`${color.bot('bot>')} ${first ?? ''}`, ...rest.map((l) => `     ${l}`));
    const items = ((message.quickReply as { items?: Array<{ action: QuickReplyAction }> } | undefined)?.items ?? []).map((i) => i.action);
    if (items.length > 0) {
      quickReplies = items;
      out.push(`     ${items.map((a, i) => `[#${i + 1} ${a.label ?? ''}]`).join(' ')}`);
    }
  }
  out.push(color.dim(`     (${req.kind})`));
  if (process.stdout.isTTY) {
    readline.clearLine(process.stdout, 0);
    readline.cursorTo(process.stdout, 0);
  }
  console.log(out.join('\n'));
  prompt.rl?.prompt(true);
}

async function send(event: LineWebhookEvent): Promise<void> {
  try {
    const res = await postLineWebhook(serviceUrl, secret!, [event]);
    if (res.status !== 200) console.log(color.err(`the service answered ${res.status}: ${await res.text()}`));
  } catch (err) {
    console.log(color.err(`could not reach the service at ${serviceUrl}: ${err instanceof Error ? err.message : String(err)}`));
  }
}

async function waitForService(): Promise<void> {
  let told = false;
  for (;;) {
    try {
      const res = await fetch(`${serviceUrl}/healthz`);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    if (!told) {
      console.log(`waiting for the service at ${serviceUrl} …`);
      told = true;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** The prompt, once the chat has started (bot messages redraw it). */
const prompt: { rl?: readline.Interface } = {};
let standin: Awaited<ReturnType<typeof startLineStandin>>;
try {
  standin = await startLineStandin({ port: Number(args.port), displayName: () => args.name });
} catch (err) {
  console.error(`could not listen on port ${args.port} (${err instanceof Error ? err.message : String(err)}); pick another with --port`);
  process.exit(1);
}
const apiBase = `http://localhost:${standin.port}`;
console.log(`LINE stand-in listening at ${apiBase}`);
console.log(`start the service with:  LINE_API_BASE_URL=${apiBase} npm start`);
standin.onDelivered(printDelivery);

await waitForService();
console.log(`chatting with ${serviceUrl} as ${args.name} (${userId}); /help for commands`);

const rl = readline.createInterface({ input: process.stdin, output: process.stdout, prompt: 'you> ' });
prompt.rl = rl;
const quit = async () => {
  rl.close();
  await standin.close();
  process.exit(0);
};
process.on('SIGINT', () => void quit());
rl.on('close', () => void quit());
await send(followEvent(userId));
rl.prompt();

rl.on('line', (input) => {
  void (async () => {
    const line = input.trim();
    if (line === '') {
      // nothing typed
    } else if (line === '/quit' || line === '/exit') {
      await quit();
    } else if (line === '/help') {
      console.log('type a message, or: /postback <data>, #<n> (tap quick reply n), /follow, /unfollow, /quit');
    } else if (line.startsWith('/postback ')) {
      await send(postbackEvent(userId, line.slice('/postback '.length)));
    } else if (line === '/follow') {
      await send(followEvent(userId, { unblocked: true }));
    } else if (line === '/unfollow') {
      await send(unfollowEvent(userId));
    } else if (/^#\d+$/.test(line)) {
      const action = quickReplies[Number(line.slice(1)) - 1];
      if (!action) console.log(color.err(`no quick reply ${line}`));
      else if (action.type === 'postback' && action.data !== undefined) await send(postbackEvent(userId, action.data));
      else await send(textEvent(userId, action.text ?? action.label ?? ''));
    } else {
      await send(textEvent(userId, line));
    }
    rl.prompt();
  })();
});
