/**
 * The LINE bodies this project sends and reads, written down here as JSON Schema so the tests
 * check them on any machine. Every type, required field, enum and limit below is a fact from
 * LINE's Messaging API reference (https://developers.line.biz/en/reference/messaging-api/ and
 * its OpenAPI files, messaging-api.yml and webhook.yml); line-schema.ts validates against these
 * always and against LINE's own OpenAPI files as well when they are at hand.
 *
 * What we send is described closed (`additionalProperties: false`): a field we start sending must
 * be added here with its facts first, and a misspelt field fails the tests. What LINE sends us is
 * described open, as LINE adds fields to webhook events without notice.
 */

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/definitions/${name}` });

/** An object with exactly these properties; `required` lists the ones LINE insists on. */
function closed(properties: Record<string, Schema>, required: string[] = []): Schema {
  return { type: 'object', additionalProperties: false, required, properties };
}

/**
 * One of several object shapes told apart by `type` (LINE's discriminated objects). An unknown
 * `type` is reported at `…/type`; a known one is held to its own shape.
 */
function byType(mapping: Record<string, string>): Schema {
  return {
    type: 'object',
    required: ['type'],
    properties: { type: { enum: Object.keys(mapping) } },
    allOf: Object.entries(mapping).map(([value, name]) => ({
      if: { properties: { type: { const: value } }, required: ['type'] },
      then: ref(name),
    })),
  };
}

/** `#RRGGBB` or `#RRGGBBAA`: LINE's colour format for Flex colours. */
const color: Schema = { type: 'string', pattern: '^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$' };
/** LINE fetches images and opens links only over HTTPS; URLs are at most 2000 characters (images) / 1000 (action URIs). */
const httpsImage: Schema = { type: 'string', pattern: '^https://', maxLength: 2000 };
/** Action labels: at most 20 characters (quick reply buttons and Flex buttons alike). */
const label: Schema = { type: 'string', minLength: 1, maxLength: 20 };
/** Flex keyword sizes (a pixel value such as `12px` is allowed too). */
const flexSize: Schema = { type: 'string', pattern: '^(xxs|xs|sm|md|lg|xl|xxl|3xl|4xl|5xl|full|\\d+(\\.\\d+)?(px|%))$' };
const flexSpacing: Schema = { type: 'string', pattern: '^(none|xs|sm|md|lg|xl|xxl|\\d+(\\.\\d+)?px)$' };
/** Action common properties: `type` plus a label (required on buttons and quick replies, which are all we send). */
const actionBase = { type: { type: 'string' }, label };

const messaging: Record<string, Schema> = {
  ReplyMessageRequest: closed({
    replyToken: { type: 'string', minLength: 1 },
    messages: { type: 'array', minItems: 1, maxItems: 5, items: ref('Message') },
    notificationDisabled: { type: 'boolean' },
  }, ['replyToken', 'messages']),
  PushMessageRequest: closed({
    to: { type: 'string', minLength: 1 },
    messages: { type: 'array', minItems: 1, maxItems: 5, items: ref('Message') },
    notificationDisabled: { type: 'boolean' },
  }, ['to', 'messages']),

  Message: byType({ text: 'TextMessage', image: 'ImageMessage', flex: 'FlexMessage' }),
  QuickReply: closed({
    items: { type: 'array', minItems: 1, maxItems: 13, items: ref('QuickReplyItem') },
  }, ['items']),
  QuickReplyItem: closed({ type: { const: 'action' }, action: ref('QuickReplyAction') }, ['type', 'action']),
  QuickReplyAction: byType({ postback: 'PostbackAction', message: 'MessageAction' }),

  TextMessage: closed({
    type: { const: 'text' },
    text: { type: 'string', minLength: 1, maxLength: 5000 },
    quickReply: ref('QuickReply'),
  }, ['type', 'text']),
  ImageMessage: closed({
    type: { const: 'image' },
    originalContentUrl: httpsImage,
    previewImageUrl: httpsImage,
    quickReply: ref('QuickReply'),
  }, ['type', 'originalContentUrl', 'previewImageUrl']),
  FlexMessage: closed({
    type: { const: 'flex' },
    altText: { type: 'string', minLength: 1, maxLength: 1500 },
    contents: ref('FlexBubble'),
    quickReply: ref('QuickReply'),
  }, ['type', 'altText', 'contents']),

  FlexBubble: closed({
    type: { const: 'bubble' },
    size: { enum: ['nano', 'micro', 'deca', 'hecto', 'kilo', 'mega', 'giga'] },
    header: ref('FlexBox'),
    hero: ref('FlexComponent'),
    body: ref('FlexBox'),
    footer: ref('FlexBox'),
    styles: closed({ header: ref('FlexBlockStyle'), hero: ref('FlexBlockStyle'), body: ref('FlexBlockStyle'), footer: ref('FlexBlockStyle') }),
    action: ref('FlexAction'),
  }, ['type']),
  FlexBlockStyle: closed({ backgroundColor: color, separator: { type: 'boolean' }, separatorColor: color }),
  FlexComponent: byType({ box: 'FlexBox', text: 'FlexText', image: 'FlexImage', button: 'FlexButton' }),
  FlexBox: closed({
    type: { const: 'box' },
    layout: { enum: ['horizontal', 'vertical', 'baseline'] },
    contents: { type: 'array', items: ref('FlexComponent') },
    spacing: flexSpacing,
    margin: flexSpacing,
    paddingAll: flexSpacing,
    backgroundColor: color,
    action: ref('FlexAction'),
  }, ['type', 'layout', 'contents']),
  FlexText: closed({
    type: { const: 'text' },
    text: { type: 'string', minLength: 1 },
    size: flexSize,
    weight: { enum: ['regular', 'bold'] },
    wrap: { type: 'boolean' },
    color,
    align: { enum: ['start', 'end', 'center'] },
    margin: flexSpacing,
    action: ref('FlexAction'),
  }, ['type', 'text']),
  FlexImage: closed({
    type: { const: 'image' },
    url: httpsImage,
    size: flexSize,
    // `{width}:{height}`, each 1 to 100000, the height at most three times the width.
    aspectRatio: { type: 'string', pattern: '^[1-9]\\d{0,5}:[1-9]\\d{0,5}$' },
    aspectMode: { enum: ['fit', 'cover'] },
    backgroundColor: color,
    action: ref('FlexAction'),
  }, ['type', 'url']),
  FlexButton: closed({
    type: { const: 'button' },
    action: ref('FlexAction'),
    style: { enum: ['primary', 'secondary', 'link'] },
    color,
    height: { enum: ['sm', 'md'] },
    margin: flexSpacing,
  }, ['type', 'action']),
  FlexAction: byType({ uri: 'URIAction', postback: 'PostbackAction', message: 'MessageAction' }),

  URIAction: closed({
    ...actionBase,
    // Opened by the LINE app: at most 1000 characters; http, https, line and tel schemes.
    uri: { type: 'string', minLength: 1, maxLength: 1000, pattern: '^(https?|line|tel):' },
  }, ['type', 'uri']),
  PostbackAction: closed({
    ...actionBase,
    data: { type: 'string', minLength: 1, maxLength: 300 },
    displayText: { type: 'string', minLength: 1, maxLength: 300 },
  }, ['type', 'label', 'data']),
  MessageAction: closed({
    ...actionBase,
    text: { type: 'string', minLength: 1, maxLength: 300 },
  }, ['type', 'label', 'text']),
};

/** What LINE posts to our webhook, as far as we read it (open: LINE adds fields freely). */
const webhook: Record<string, Schema> = {
  CallbackRequest: {
    type: 'object',
    required: ['destination', 'events'],
    properties: {
      destination: { type: 'string', pattern: '^U[0-9a-f]{32}$' },
      events: { type: 'array', items: ref('Event') },
    },
  },
  Event: {
    type: 'object',
    required: ['type', 'timestamp', 'mode', 'webhookEventId', 'deliveryContext'],
    properties: {
      type: { type: 'string', minLength: 1 },
      mode: { enum: ['active', 'standby'] },
      timestamp: { type: 'integer', minimum: 0 },
      webhookEventId: { type: 'string', minLength: 1 },
      deliveryContext: { type: 'object', required: ['isRedelivery'], properties: { isRedelivery: { type: 'boolean' } } },
      replyToken: { type: 'string', minLength: 1 },
      source: ref('Source'),
    },
    allOf: [
      { if: { properties: { type: { const: 'message' } } }, then: { required: ['message'], properties: { message: ref('MessageContent') } } },
      {
        if: { properties: { type: { const: 'follow' } } },
        then: { required: ['replyToken', 'follow'], properties: { follow: { type: 'object', required: ['isUnblocked'], properties: { isUnblocked: { type: 'boolean' } } } } },
      },
      {
        if: { properties: { type: { const: 'postback' } } },
        then: { required: ['postback'], properties: { postback: { type: 'object', required: ['data'], properties: { data: { type: 'string' } } } } },
      },
      {
        if: { properties: { type: { const: 'unsend' } } },
        then: { required: ['unsend'], properties: { unsend: { type: 'object', required: ['messageId'], properties: { messageId: { type: 'string' } } } } },
      },
      { if: { properties: { type: { const: 'join' } } }, then: { required: ['replyToken'] } },
    ],
  },
  Source: {
    type: 'object',
    required: ['type'],
    properties: { type: { enum: ['user', 'group', 'room'] }, userId: { type: 'string' } },
    allOf: [
      { if: { properties: { type: { const: 'group' } } }, then: { required: ['groupId'], properties: { groupId: { type: 'string' } } } },
      { if: { properties: { type: { const: 'room' } } }, then: { required: ['roomId'], properties: { roomId: { type: 'string' } } } },
    ],
  },
  MessageContent: {
    type: 'object',
    required: ['type', 'id'],
    properties: {
      type: { enum: ['text', 'image', 'video', 'audio', 'file', 'location', 'sticker'] },
      id: { type: 'string', minLength: 1 },
    },
    allOf: [
      { if: { properties: { type: { const: 'text' } } }, then: { required: ['text', 'quoteToken'], properties: { text: { type: 'string' } } } },
      { if: { properties: { type: { const: 'image' } } }, then: { required: ['contentProvider', 'quoteToken'] } },
      { if: { properties: { type: { const: 'video' } } }, then: { required: ['contentProvider', 'quoteToken'] } },
      { if: { properties: { type: { const: 'audio' } } }, then: { required: ['contentProvider'] } },
      { if: { properties: { type: { const: 'file' } } }, then: { required: ['fileName', 'fileSize'] } },
      { if: { properties: { type: { const: 'location' } } }, then: { required: ['latitude', 'longitude'] } },
      { if: { properties: { type: { const: 'sticker' } } }, then: { required: ['packageId', 'stickerId', 'stickerResourceType', 'quoteToken'] } },
    ],
  },
};

/** The Messaging API request bodies we send, keyed by LINE's schema names. */
export const lineMessagingSchemas = messaging;
/** The webhook bodies LINE sends us, keyed by LINE's schema names. */
export const lineWebhookSchemas = webhook;
