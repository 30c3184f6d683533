import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { lineMessagingSchemas, lineWebhookSchemas } from './line-bodies.ts';

/**
 * Validates LINE bodies against the project's own schema (line-bodies.ts), always, and in
 * addition against LINE's own OpenAPI descriptions in ../shared/line-openapi/ when they are there
 * (the test run prints one line when they are not).
 *
 * LINE's schemas model inheritance as a base schema with a `discriminator` whose subtypes
 * `allOf` the base. Plain JSON Schema ignores `discriminator` (so any `type` would pass) and
 * Ajv's `discriminator` option needs `oneOf`, which these schemas lack. So each discriminated
 * schema S is rewritten: `S__base` keeps S's own properties (what subtypes inherit), and S itself
 * becomes a dispatcher that allows only the mapped `type` values and applies the matching subtype.
 */
// LINE's own OpenAPI files are read from the team's shared folder beside the project (they are
// not copied into it); LINE_OPENAPI_DIR points elsewhere when the checkout lives somewhere else.
const openapiDir = process.env.LINE_OPENAPI_DIR
  ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/line-openapi');
const PREFIX = '#/components/schemas/';

type Schema = Record<string, unknown>;

/**
 * Limits LINE documents in its reference pages but that the OpenAPI file does not encode;
 * we hold our bodies to them too. Each entry adds keywords to one schema.
 */
const documentedLimits: Record<string, Schema> = {
  Action__base: { properties: { label: { type: 'string', maxLength: 20 } } },
  TextMessage: { properties: { text: { type: 'string', minLength: 1, maxLength: 5000 } } },
  FlexMessage: { properties: { altText: { type: 'string', minLength: 1, maxLength: 1500 } } },
  FlexText: { properties: { text: { type: 'string', minLength: 1 } } },
  URIAction: { required: ['uri'], properties: { uri: { type: 'string', maxLength: 1000 } } },
  PostbackAction: { required: ['data'] },
  MessageAction: { required: ['text'], properties: { text: { type: 'string', minLength: 1, maxLength: 300 } } },
  FlexImage: { properties: { url: { type: 'string', pattern: '^https://', maxLength: 2000 } } },
  ImageMessage: {
    properties: {
      originalContentUrl: { type: 'string', pattern: '^https://', maxLength: 2000 },
      previewImageUrl: { type: 'string', pattern: '^https://', maxLength: 2000 },
    },
  },
  FlexButton: { properties: { color: { type: 'string', pattern: '^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$' } } },
  FlexBlockStyle: { properties: { backgroundColor: { type: 'string', pattern: '^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$' } } },
};

function rewriteDiscriminators(schemas: Record<string, Schema>): Record<string, Schema> {
  const discriminated = new Set(Object.entries(schemas).filter(([, s]) => s.discriminator).map(([name]) => name));
  const out: Record<string, Schema> = {};
  for (const [name, schema] of Object.entries(schemas)) {
    // A subtype's `allOf: [$ref: Base]` means "inherit Base's properties", not "dispatch again".
    const allOf = Array.isArray(schema.allOf)
      ? (schema.allOf as Schema[]).map((part) => {
        const ref = typeof part.$ref === 'string' ? part.$ref : '';
        const target = ref.startsWith(PREFIX) ? ref.slice(PREFIX.length) : '';
        return discriminated.has(target) ? { $ref: `${PREFIX}${target}__base` } : part;
      })
      : undefined;
    const rewritten: Schema = { ...schema, ...(allOf ? { allOf } : {}) };
    if (!discriminated.has(name)) {
      out[name] = rewritten;
      continue;
    }
    const { discriminator, ...base } = rewritten as Schema & { discriminator: { propertyName: string; mapping: Record<string, string> } };
    const prop = discriminator.propertyName;
    out[`${name}__base`] = base;
    out[name] = {
      type: 'object',
      required: [prop],
      properties: { [prop]: { enum: Object.keys(discriminator.mapping) } },
      allOf: Object.entries(discriminator.mapping).map(([value, ref]) => ({
        if: { properties: { [prop]: { const: value } }, required: [prop] },
        then: { $ref: ref },
      })),
    };
  }
  for (const [name, extra] of Object.entries(documentedLimits)) {
    if (out[name]) out[name] = { allOf: [out[name], extra] };
  }
  return out;
}

function newAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  for (const f of ['int32', 'int64', 'double', 'float', 'binary']) ajv.addFormat(f, true);
  return ajv;
}

/** Validators against LINE's own OpenAPI file, or null when the file is not at hand. */
function loadOpenApi(file: string, id: string, names: string[]): Record<string, ValidateFunction> | null {
  const source = path.join(openapiDir, file);
  if (!existsSync(source)) return null;
  const doc = parse(readFileSync(source, 'utf8')) as { components: { schemas: Record<string, Schema> } };
  const ajv = newAjv();
  ajv.addSchema({ $id: id, components: { schemas: rewriteDiscriminators(doc.components.schemas) } });
  return Object.fromEntries(names.map((n) => [n, ajv.getSchema(`${id}${PREFIX}${n}`)!]));
}

/** Validators against the project's own description of LINE's bodies (line-bodies.ts). */
function loadOwn(definitions: Record<string, Schema>, id: string, names: string[]): Record<string, ValidateFunction> {
  const ajv = newAjv();
  ajv.addSchema({ $id: id, definitions });
  return Object.fromEntries(names.map((n) => [n, ajv.getSchema(`${id}#/definitions/${n}`)!]));
}

/** Whether LINE's OpenAPI files are here; when not, only the project's own schema is checked. */
export function lineOpenApiAvailable(): boolean {
  return existsSync(path.join(openapiDir, 'messaging-api.yml')) && existsSync(path.join(openapiDir, 'webhook.yml'));
}

export const lineOpenApiFolder = openapiDir;

interface Validators { own: Record<string, ValidateFunction>; openapi: Record<string, ValidateFunction> | null }

let messaging: Validators | undefined;
let webhook: Validators | undefined;

export type LineSchemaName = 'ReplyMessageRequest' | 'PushMessageRequest' | 'Message';

export interface LineValidation {
  valid: boolean;
  errors: string[];
}

function errorsOf(validate: ValidateFunction, body: unknown, prefix: string): string[] {
  if (validate(body)) return [];
  return (validate.errors ?? []).map((e: ErrorObject) => `${prefix}${e.instancePath || '/'} ${e.message ?? ''}`);
}

/** Which description to check against: both (the default), or one of them alone. */
export type LineSchemaSource = 'both' | 'own' | 'openapi';

/** Our own schema always; LINE's OpenAPI as well when present (its errors marked as such). */
function result(validators: Validators, name: string, body: unknown, source: LineSchemaSource): LineValidation {
  if (source === 'openapi' && !validators.openapi) throw new Error(`LINE's OpenAPI files are not in ${openapiDir}`);
  const errors = [
    ...(source !== 'openapi' ? errorsOf(validators.own[name]!, body, '') : []),
    ...(source !== 'own' && validators.openapi ? errorsOf(validators.openapi[name]!, body, "LINE's OpenAPI: ") : []),
  ];
  return { valid: errors.length === 0, errors };
}

const MESSAGING = ['ReplyMessageRequest', 'PushMessageRequest', 'Message'];

/** Validates a Messaging API request body (or one message): line-bodies.ts, and messaging-api.yml when present. */
export function validateLineRequest(schema: LineSchemaName, body: unknown, source: LineSchemaSource = 'both'): LineValidation {
  messaging ??= {
    own: loadOwn(lineMessagingSchemas, 'chatcoupon-line-messaging', MESSAGING),
    openapi: loadOpenApi('messaging-api.yml', 'line-messaging', MESSAGING),
  };
  return result(messaging, schema, body, source);
}

/** Validates a webhook body (what LINE posts to us): line-bodies.ts, and webhook.yml's CallbackRequest when present. */
export function validateLineWebhook(body: unknown, source: LineSchemaSource = 'both'): LineValidation {
  webhook ??= {
    own: loadOwn(lineWebhookSchemas, 'chatcoupon-line-webhook', ['CallbackRequest']),
    openapi: loadOpenApi('webhook.yml', 'line-webhook', ['CallbackRequest']),
  };
  return result(webhook, 'CallbackRequest', body, source);
}
