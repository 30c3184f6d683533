import { channelPlugins } from '../adapters/index.ts';
import type { Config } from './config.ts';
import type { Auth } from './http/auth.ts';

/** Where each platform's console takes our webhook URL, and what turns the channel on. */
const webhookPlaces: Record<string, { where: string; enable: string }> = {
  line: { where: 'LINE Developers → your channel → Messaging API → Webhook URL', enable: 'LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN' },
  messenger: {
    where: 'Meta for Developers → Messenger → Webhooks → Callback URL (verify token: MESSENGER_VERIFY_TOKEN)',
    enable: 'MESSENGER_APP_SECRET, MESSENGER_PAGE_ACCESS_TOKEN and MESSENGER_VERIFY_TOKEN',
  },
  inbox: { where: 'your seller inbox\'s webhook setting', enable: 'INBOX_WEBHOOK_SECRET and INBOX_CALLBACK_URL' },
};

/**
 * The lines `npm start` prints once the service runs: where to go, what to paste into LINE and
 * Meta, and where the admin token came from and how to set or reset it. Never the token itself,
 * except the one generated on this start (shown once; only its hash is kept).
 */
export function startupBanner(opts: {
  config: Config;
  listeningUrl: string;
  auth: Pick<Auth, 'adminTokenFrom' | 'generatedAdminToken'>;
  enabledChannels: readonly string[];
  /** `file:line:col: message` lines, the file relative to FLOWS_DIR. */
  refusedFlows: readonly string[];
}): string[] {
  const base = opts.config.PUBLIC_BASE_URL;
  const lines = [
    `chatcoupon is running at ${opts.listeningUrl}${base !== opts.listeningUrl ? ` (public base URL ${base})` : ''}`,
    `  Admin console:  ${base}/admin`,
    `  Workbench:      ${base}/workbench`,
    '  Webhook URLs to paste into the platforms (they must be public https:// addresses):',
  ];
  for (const { name: channel } of channelPlugins) {
    const place = webhookPlaces[channel] ?? { where: `${channel}'s webhook setting`, enable: `its variables` };
    lines.push(opts.enabledChannels.includes(channel)
      ? `    ${channel.padEnd(10)} ${base}/webhooks/${channel}   → ${place.where}`
      : `    ${channel.padEnd(10)} off (set ${place.enable} to turn it on)`);
  }
  switch (opts.auth.adminTokenFrom) {
    case 'env':
      lines.push('  Admin token: from ADMIN_TOKEN.');
      break;
    case 'generated':
      lines.push(
        'Generated admin token (shown only this once; only its hash is kept; set ADMIN_TOKEN to choose your own,',
        'or start once with ADMIN_TOKEN_RESET=1 to get a new one):',
        `  ${opts.auth.generatedAdminToken}`,
      );
      break;
    case 'stored':
      lines.push('  Admin token: the one generated on the first start (only its hash is kept, so it cannot be shown again).',
        '  Lost it? Start once with ADMIN_TOKEN_RESET=1 to get a new one, or set ADMIN_TOKEN to choose your own.');
      break;
  }
  if (opts.refusedFlows.length > 0) {
    lines.push('  Flow files refused (fix them; a refused file\'s last good version, if any, keeps running):');
    // `file:line:col: message`, the file as found under FLOWS_DIR.
    const dir = opts.config.FLOWS_DIR.replace(/^\.\//, '').replace(/\/+$/, '');
    for (const e of opts.refusedFlows) lines.push(`    ${dir}/${e}`);
  }
  return lines;
}
