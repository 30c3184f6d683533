import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

/**
 * Validates bodies against LINE's own OpenAPI descriptions in ../shared/line-openapi/.
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

function loadValidators(file: string, id: string, names: string[]): Record<string, ValidateFunction> {
  const source = path.join(openapiDir, file);
  if (!existsSync(source)) throw new Error(`LINE's OpenAPI file ${source} is missing: set LINE_OPENAPI_DIR to the folder holding messaging-api.yml and webhook.yml`);
  const doc = parse(readFileSync(source, 'utf8')) as { components: { schemas: Record<string, Schema> } };
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  for (const f of ['int32', 'int64', 'double', 'float', 'binary']) ajv.addFormat(f, true);
  ajv.addSchema({ $id: id, components: { schemas: rewriteDiscriminators(doc.components.schemas) } });
  return Object.fromEntries(names.map((n) => [n, ajv.getSchema(`${id}${PREFIX}${n}`)!]));
}

let messaging: Record<string, ValidateFunction> | undefined;
let webhook: Record<string, ValidateFunction> | undefined;

export type LineSchemaName = 'ReplyMessageRequest' | 'PushMessageRequest' | 'Message';

export interface LineValidation {
  valid: boolean;
  errors: string[];
}

function result(validate: ValidateFunction, body: unknown): LineValidation {
  const valid = validate(body) as boolean;
  return { valid, errors: (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath || '/'} ${e.message ?? ''}`) };
}

/** Validates a Messaging API request body (or one message) against messaging-api.yml. */
export function validateLineRequest(schema: LineSchemaName, body: unknown): LineValidation {
  messaging ??= loadValidators('messaging-api.yml', 'line-messaging', ['ReplyMessageRequest', 'PushMessageRequest', 'Message']);
  return result(messaging[schema]!, body);
}

/** Validates a webhook body (what LINE posts to us) against webhook.yml's CallbackRequest. */
export function validateLineWebhook(body: unknown): LineValidation {
  webhook ??= loadValidators('webhook.yml', 'line-webhook', ['CallbackRequest']);
  return result(webhook.CallbackRequest!, body);
}
