/**
 * Link-preview crawlers and bots fetch a coupon link the moment it lands in a chat; they must not
 * count as the customer opening it. The page records opens with a script beacon (crawlers run no
 * scripts), and the beacon endpoint also drops these agents, for the few that do.
 */
const crawler = new RegExp([
  'bot\\b', 'bot/', 'bot;', 'crawl', 'spider', 'slurp', 'preview', 'fetcher',
  'facebookexternalhit', 'facebookcatalog', 'meta-externalagent', 'line-poker', 'linespider',
  'whatsapp', 'telegrambot', 'discordbot', 'slackbot', 'slack-imgproxy', 'twitterbot', 'skypeuripreview',
  'embedly', 'vkshare', 'pinterest', 'redditbot', 'applebot', 'googleother', 'bingpreview', 'mastodon',
  'curl/', 'wget/', 'python-requests', 'python-urllib', 'go-http-client', 'okhttp', 'axios/', 'node-fetch', 'undici',
].join('|'), 'i');

export function isCrawler(userAgent: string | undefined): boolean {
  if (!userAgent || userAgent.trim() === '') return true;
  // A phone brand, not a bot.
  return crawler.test(userAgent.replace(/cubot/gi, ''));
}
