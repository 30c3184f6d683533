/**
 * npm run simulate — chat with the bot as a LINE user, in the terminal.
 *
 * It plays both sides of LINE around a running service: it sends signed webhooks to the service
 * as LINE would, and it stands in for LINE's Messaging API, so what the bot replies or pushes is
 * printed here. The service must be started pointed at it (LINE_API_BASE_URL) with the same
 * LINE_CHANNEL_SECRET; both read the environment and `.env`, so one `.env` serves both:
 *
 *   PORT=3000                                  # the service's port; the simulator talks to it
 *   LINE_CHANNEL_SECRET=dev-secret
 *   LINE_CHANNEL_ACCESS_TOKEN=dev-token        # any value works against the stand-in
 *   LINE_API_BASE_URL=http://localhost:4010    # the simulator listens on this port
 *   ADMIN_TOKEN=dev-admin-token-123456         # lets the simulator see when the bot is done
 *
 * On start it sends a follow event; then every line you type is a text message, sent once the
 * bot has answered the one before. A message no flow answers gets a line saying so. When the
 * input ends (Ctrl-D, or the end of a pipe: `printf 'hi\n' | npm run simulate`) it waits for
 * the bot's last answers, prints them and exits. Commands:
 *   /postback <data>   a postback (what a postback button sends)
 *   #<n>               tap quick reply n of the bot's last message
 *   /follow, /unfollow the user (un)blocks the account
 *   /help, /quit
 * Options:
 *   --port <n>       the service's port (default: PORT, else 3000)
 *   --url <url>      the service's address instead (default http://localhost:<port>)
 *   --line-port <n>  the LINE stand-in's port (default: the port of LINE_API_BASE_URL, else 4010)
 *   --token <token>  an owner's or marketer's token to follow the bot's work (default: ADMIN_TOKEN);
 *                    without one the simulator waits for 2 quiet seconds instead
 *   --user <id>      the LINE user id (default: a new user each run)
 *   --name <name>    the display name; --language <tag> the profile language (default: none)
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
    url: { type: 'string' },
    port: { type: 'string' },
    'line-port': { type: 'string' },
    token: { type: 'string' },
    user: { type: 'string' },
    name: { type: 'string', default: 'Simulated User' },
    language: { type: 'string' },
  },
});

const secret = process.env.LINE_CHANNEL_SECRET;
if (!secret) {
  console.error('LINE_CHANNEL_SECRET is not set: set it (in .env or the environment) to the same value the service uses.');
  process.exit(1);
}

/** The port of LINE_API_BASE_URL when it names this machine: the service sends LINE's requests there. */
function linePortFromEnv(): string | undefined {
  try {
    const u = new URL(process.env.LINE_API_BASE_URL ?? '');
    return ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname) && u.port ? u.port : undefined;
  } catch {
    return undefined;
  }
}

function portArg(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    console.error(`${name} must be a port number from 1 to 65535, not "${value}"`);
    process.exit(1);
  }
  return n;
}

/** An environment variable, unset when empty (as the service reads them). */
const envVar = (name: string) => process.env[name]?.trim() || undefined;
const servicePort = portArg(args.port !== undefined ? '--port' : 'PORT', args.port ?? envVar('PORT') ?? '3000');
const serviceUrl = (args.url ?? envVar('SIMULATE_URL') ?? `http://localhost:${servicePort}`).replace(/\/+$/, '');
const linePort = portArg('--line-port', args['line-port'] ?? envVar('SIMULATE_LINE_PORT') ?? linePortFromEnv() ?? '4010');
let token = args.token ?? envVar('ADMIN_TOKEN') ?? null;
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

/** Work still under way (image checks, a message being followed): the exit waits for it. */
const busy = new Set<Promise<unknown>>();
function track<T>(p: Promise<T>): Promise<T> {
  busy.add(p);
  void p.finally(() => busy.delete(p)).catch(() => undefined);
  return p;
}

/** When the bot last delivered something (for the quiet-period wait without a token). */
let lastDeliveryAt = Date.now();

function printLines(lines: string[]): void {
  if (process.stdout.isTTY) {
    readline.clearLine(process.stdout, 0);
    readline.cursorTo(process.stdout, 0);
  }
  console.log(lines.join('\n'));
  if (!inputEnded && interactive) prompt.rl?.prompt(true);
}

/**
 * LINE shows only https images, so the service leaves an http image out of a card (a local setup
 * without https). The card's coupon page shows the campaign's image: when the page has one and
 * the card has none, say so.
 */
async function checkDroppedImage(pageUrl: string): Promise<void> {
  try {
    const res = await fetch(pageUrl);
    const html = await res.text();
    const m = /<img class="hero" src="([^"]+)"/.exec(html);
    if (m && !m[1]!.startsWith('https://')) {
      printLines([color.err(`     (the card's image ${m[1]!.replace(/&amp;/g, '&')} was left out: LINE shows only https images; set PUBLIC_BASE_URL to an https address)`)]);
    }
  } catch {
    // The page could not be read: nothing to say about the image.
  }
}

function printDelivery(req: StandinRequest): void {
  const body = req.body as { to?: string; messages?: Array<Record<string, unknown>> };
  if (req.kind === 'push' && body.to !== userId) return;
  lastDeliveryAt = Date.now();
  const out: string[] = [];
  for (const message of body.messages ?? []) {
    const [first, ...rest] = describeMessage(message);
    out.push(`${color.bot('bot>')} ${first ?? ''}`, ...rest.map((l) => `     ${l}`));
    const items = ((message.quickReply as { items?: Array<{ action: QuickReplyAction }> } | undefined)?.items ?? []).map((i) => i.action);
    if (items.length > 0) {
      quickReplies = items;
      out.push(`     ${items.map((a, i) => `[#${i + 1} ${a.label ?? ''}]`).join(' ')}`);
    }
    if (message.type === 'flex') {
      const lines = flexLines(message.contents);
      const page = lines.map((l) => /\] (https?:\/\/\S+\/c\/\S+)$/.exec(l)?.[1]).find(Boolean);
      if (page && !lines.some((l) => l.startsWith('[image '))) void track(checkDroppedImage(page));
    }
  }
  out.push(color.dim(`     (${req.kind})`));
  printLines(out);
}

/** Sends one event; answers whether the service stored it. */
async function send(event: LineWebhookEvent): Promise<boolean> {
  try {
    const res = await postLineWebhook(serviceUrl, secret!, [event]);
    if (res.status === 200) return true;
    printLines([color.err(`the service answered ${res.status}: ${await res.text()}`)]);
  } catch (err) {
    printLines([color.err(`could not reach the service at ${serviceUrl}: ${err instanceof Error ? err.message : String(err)}`)]);
  }
  return false;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const QUIET_MS = 2000;

/**
 * Waits until the service has processed the event and sent every message it wrote to this user
 * (they are printed as they arrive); says so when no flow answered a message. Without a token it
 * waits for a quiet moment instead.
 */
async function awaitAnswers(event: LineWebhookEvent, what: string): Promise<void> {
  for (let told = false; token;) {
    let res: Response;
    try {
      res = await fetch(`${serviceUrl}/api/v1/inbound-events/line/${encodeURIComponent(event.webhookEventId)}`, { headers: { Authorization: `Bearer ${token}` } });
    } catch {
      await delay(200);
      continue;
    }
    if (res.status === 401 || res.status === 403) {
      printLines([color.err(`(the token cannot follow the bot's work (${res.status}); waiting for quiet moments instead)`)]);
      token = null;
      break;
    }
    if (res.ok) {
      const r = await res.json() as { status: string; outcome: string | null; error: string | null; messagesPending: number };
      if (r.status === 'failed') {
        printLines([color.err(`(the service could not process ${what}: ${r.error ?? 'unknown error'})`)]);
        return;
      }
      if (r.status === 'processed' && r.messagesPending === 0) {
        if (r.outcome === 'no-match') printLines([color.dim(`     (no flow answers ${what}: nothing was sent back)`)]);
        return;
      }
      if (r.status === 'processed' && !told && r.messagesPending > 0) told = true;
    }
    await delay(100);
  }
  const since = Date.now();
  while (Date.now() - Math.max(since, lastDeliveryAt) < QUIET_MS) await delay(100);
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
    await delay(1000);
  }
}

/** The prompt, once the chat has started (bot messages redraw it). */
const prompt: { rl?: readline.Interface } = {};
let inputEnded = false;
/** Typed at a terminal (a prompt is shown), or piped in (no prompt). */
const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
let standin: Awaited<ReturnType<typeof startLineStandin>>;
try {
  standin = await startLineStandin({
    port: linePort, displayName: () => args.name, language: () => args.language ?? null,
  });
} catch (err) {
  console.error(`could not listen on port ${linePort} (${err instanceof Error ? err.message : String(err)}); pick another with --line-port and start the service with LINE_API_BASE_URL naming it`);
  process.exit(1);
}
const apiBase = `http://localhost:${standin.port}`;
console.log(`LINE stand-in listening at ${apiBase}`);
if (process.env.LINE_API_BASE_URL?.replace(/\/+$/, '') !== apiBase) console.log(`start the service with:  LINE_API_BASE_URL=${apiBase} npm start`);
if (!token) console.log('(no ADMIN_TOKEN or --token: the simulator cannot see when the bot is done, so it waits for 2 quiet seconds after each message)');
standin.onDelivered(printDelivery);

await waitForService();
console.log(`chatting with ${serviceUrl} as ${args.name} (${userId}); /help for commands`);

const quit = async (code = 0) => {
  await standin.close();
  process.exit(code);
};
process.on('SIGINT', () => void quit());

/** Sends an event and waits for the bot's answers to it. */
async function chat(event: LineWebhookEvent, what: string): Promise<void> {
  if (await send(event)) await track(awaitAnswers(event, what));
}

/** One typed line: a message, a command, or nothing. */
async function handle(input: string): Promise<void> {
  const line = input.trim();
  if (line === '') return;
  if (line === '/quit' || line === '/exit') return await quit();
  if (line === '/help') {
    printLines(['type a message, or: /postback <data>, #<n> (tap quick reply n), /follow, /unfollow, /quit']);
  } else if (line.startsWith('/postback ')) {
    await chat(postbackEvent(userId, line.slice('/postback '.length)), `the postback "${line.slice('/postback '.length)}"`);
  } else if (line === '/follow') {
    await chat(followEvent(userId, { unblocked: true }), 'the follow');
  } else if (line === '/unfollow') {
    await chat(unfollowEvent(userId), 'the unfollow');
  } else if (/^#\d+$/.test(line)) {
    const action = quickReplies[Number(line.slice(1)) - 1];
    if (!action) printLines([color.err(`no quick reply ${line}`)]);
    else if (action.type === 'postback' && action.data !== undefined) await chat(postbackEvent(userId, action.data), `quick reply ${line}`);
    else await chat(textEvent(userId, action.text ?? action.label ?? ''), `quick reply ${line}`);
  } else {
    await chat(textEvent(userId, line), `"${line}"`);
  }
}

// Lines are handled one after another, each once the bot has answered the one before: a pasted
// or piped conversation goes as a person would type it.
let queue: Promise<void> = chat(followEvent(userId), 'the follow');
const rl = readline.createInterface({ input: process.stdin, output: process.stdout, prompt: 'you> ', terminal: interactive });
prompt.rl = rl;
rl.on('line', (input) => {
  queue = queue.then(() => handle(input)).then(() => {
    if (!inputEnded && interactive) rl.prompt();
  });
});
rl.on('close', () => {
  inputEnded = true;
  // The input is over: print what the bot still answers, then leave.
  void queue.then(async () => {
    while (busy.size > 0) await Promise.all([...busy]);
    await quit();
  });
});
void queue.then(() => {
  if (!inputEnded && interactive) rl.prompt();
});
