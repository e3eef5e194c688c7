// Arbitraries (fast-check) for the fuzz test of every route (test/integration/fuzz.test.ts), and a raw HTTP sender.
//
// A fuzzed request is built from parts (token, path parameters, query, headers, body), and each part says whether it
// is *broken*: wrong in a way the contract must refuse (a token without the right role, a path id that is no UUID or
// names nothing, a body its schema refuses). The suite sends only requests with at least one broken part to routes
// that change state, so that every such request must be refused, and nothing may change.
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';

export type TokenKind = 'none' | 'junk' | 'admin' | 'staff' | 'partner' | 'guest';
export const tokenKinds: TokenKind[] = ['none', 'junk', 'admin', 'staff', 'partner', 'guest'];

/** A part of a request, and whether the contract refuses a request because of it. */
export interface Part<T> {
  value: T;
  broken: boolean;
  /** What was done, for the report of a counterexample. */
  how: string;
}

// JSON schemas as the OpenAPI document gives them (the subset its bodies use).
export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  enum?: string[];
  minimum?: number;
  maximum?: number;
  anyOf?: JsonSchema[];
}

/** A body: a JSON value to serialize, with raw JSON text for values JSON.stringify cannot write; or raw text. */
export interface Body {
  value?: unknown;
  /** Text of the serialized value → raw JSON text to put in its place (1e400, a 30-digit integer, a `__proto__` key). */
  raw?: Record<string, string>;
  text?: string;
}

export function bodyText(b: Body): string {
  if (b.text !== undefined) return b.text;
  let t = JSON.stringify(b.value);
  for (const [placeholder, raw] of Object.entries(b.raw ?? {})) t = t.split(placeholder).join(raw);
  return t;
}

// Strings ------------------------------------------------------------------------------------------------------------

/** Characters Node may send in a header value: tab, printable ASCII, Latin-1 (no DEL, no other control). */
const headerChar = fc.oneof(
  fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  fc.integer({ min: 0xa0, max: 0xff }).map((c) => String.fromCharCode(c)),
  fc.constant('\t'),
);
export const headerValue = (maxLength = 60) => fc.string({ unit: headerChar, maxLength });

/** Control characters that `trim()` keeps: every text field of the contract refuses them. */
const controlChar = fc.constantFrom('\u0000', '\u0001', '\u0007', '\u0008', '\u000e', '\u001b', '\u001f', '\u007f');
const unicodeText = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('Zoë', 'Ωmega', '😀🏨', '\u202eRTL', 'e\u0301', '\ud800', '\ufeffBOM', '名前', "'; DROP TABLE hotels; --", '%s%n', '${x}'),
);
const noSpaceChar = fc.constantFrom('x', 'Y', '7', 'é', '名', '-', '_');

// Dates --------------------------------------------------------------------------------------------------------------

export function dayFromToday(offset: number): string {
  const d = new Date();
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + offset)).toISOString().slice(0, 10);
}

/** Text that is not a real `YYYY-MM-DD` date. */
const badDate = fc.oneof(
  fc.constantFrom('2027-02-30', '2027-13-01', '2027-00-10', '2027-1-1', '27-01-01', '+02027-01-01', '2027/01/01', 'tomorrow', '', 'null', '9999999-01-01', '2027-02-29'),
  fc.integer({ min: 1, max: 60 }).map((k) => `${dayFromToday(k)}T00:00:00Z`),
  fc.integer({ min: 1, max: 60 }).map((k) => ` ${dayFromToday(k)}`),
  fc.integer({ min: 1, max: 60 }).map((k) => dayFromToday(k).split('-').reverse().join('-')),
  fc.string({ maxLength: 12 }).filter((s) => !/^\d{4}-\d{2}-\d{2}$/.test(s)),
);
/** A date, mostly plausible, sometimes not. */
export const anyDate = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -5, max: 800 }).map(dayFromToday) },
  { weight: 1, arbitrary: badDate },
);

// UUIDs --------------------------------------------------------------------------------------------------------------

const uuidPattern = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
/** Text that is not a UUID (as the API reads it: no trimming, either case). */
export const badUuid = fc
  .oneof(
    fc.uuid().map((u) => u.slice(1)),
    fc.uuid().map((u) => `${u}0`),
    fc.uuid().map((u) => u.replace(/-/g, '')),
    fc.uuid().map((u) => `{${u}}`),
    fc.uuid().map((u) => ` ${u}`),
    fc.uuid().map((u) => u.replace(/[0-9a-f]/, 'g')),
    fc.uuid().map((u) => `${u.slice(0, 10)}\u0000${u.slice(11)}`),
    fc.constantFrom('not-a-uuid', '0', '-1', 'null', 'undefined', '00000000-0000-0000-0000-00000000000', '------------------------------------'),
    fc.string({ maxLength: 40 }),
  )
  .filter((s) => !uuidPattern.test(s));

/** A list cursor: what the server makes (base64url of an id) and the junk a client could send instead. */
export const cursorText = fc.oneof(
  fc.uuid().map((u) => Buffer.from(u).toString('base64url')),
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef-'), minLength: 36, maxLength: 36 }).map((s) => Buffer.from(s).toString('base64url')),
  fc.string({ maxLength: 60 }).map((s) => Buffer.from(s).toString('base64url')),
  fc.string({ maxLength: 220 }),
  fc.constantFrom('', '=', '%', 'null', 'AAAA', 'x'.repeat(201)),
);

// Bodies -------------------------------------------------------------------------------------------------------------

const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v);
const allowedTypes = (s: JsonSchema): string[] => (s.anyOf ? s.anyOf.flatMap(allowedTypes) : s.type ? [s.type] : []);

/** A JSON value of a type the schema does not allow. */
function wrongType(s: JsonSchema): fc.Arbitrary<unknown> {
  const ok = allowedTypes(s);
  return fc
    .oneof(
      fc.string({ maxLength: 10 }),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
    )
    .filter((v) => {
      const t = typeOf(v);
      if (ok.includes(t)) return false;
      // A JSON integer is also a number; a number field is not in this API, but keep the rule honest.
      return !(t === 'integer' && ok.includes('number'));
    });
}

/**
 * A value the contract refuses for a field of this schema, as a JSON value or as raw JSON text: the wrong type, out of
 * range, too long, too short, off its pattern or enum, a control character; `format` knows what the document does not
 * say (dates, countries, currencies, time zones).
 */
export function brokenValue(s: JsonSchema, field: string, current: unknown): fc.Arbitrary<{ json?: unknown; raw?: string; how: string }> {
  const options: fc.Arbitrary<{ json?: unknown; raw?: string; how: string }>[] = [
    wrongType(s).map((json) => ({ json, how: `${field}: wrong type ${JSON.stringify(json)}` })),
  ];
  const types = allowedTypes(s);
  const intSchema = s.type === 'integer' ? s : s.anyOf?.find((x) => x.type === 'integer');
  if (intSchema) {
    const { minimum: min, maximum: max } = intSchema;
    if (max !== undefined) options.push(fc.integer({ min: max + 1, max: Math.max(max + 1, Number.MAX_SAFE_INTEGER) }).map((n) => ({ json: n, how: `${field}: ${n} > max` })));
    if (min !== undefined) options.push(fc.integer({ min: Math.min(min - 1, Number.MIN_SAFE_INTEGER), max: min - 1 }).map((n) => ({ json: n, how: `${field}: ${n} < min` })));
    options.push(fc.integer({ min: min ?? -1000, max: (max ?? 1000) - 1 }).map((n) => ({ json: n + 0.5, how: `${field}: fraction` })));
    options.push(fc.constantFrom('1e400', '-1e400', '123456789012345678901234567890', '1e21', '-0.0000001').map((raw) => ({ raw, how: `${field}: raw number ${raw}` })));
  }
  if (types.includes('string')) {
    if (s.maxLength !== undefined) {
      const n = s.maxLength;
      options.push(fc.string({ unit: noSpaceChar, minLength: n + 1, maxLength: n + 50 }).map((json) => ({ json, how: `${field}: ${json.length} characters` })));
    }
    if ((s.minLength ?? 0) >= 1) {
      options.push(fc.string({ unit: fc.constantFrom(' ', '\t', '\n'), maxLength: s.minLength! - 1 }).map((json) => ({ json, how: `${field}: blank` })));
    }
    if (s.pattern) {
      const re = new RegExp(s.pattern);
      options.push(
        fc.oneof(unicodeText, fc.string({ maxLength: 40 }), badUuid)
          .filter((x) => !re.test(x) && !re.test(x.trim()))
          .map((json) => ({ json, how: `${field}: off its pattern ${JSON.stringify(json)}` })),
      );
    }
    if (s.enum) {
      const allowed = s.enum;
      options.push(
        fc.oneof(fc.constantFrom(...allowed.map((e) => e.toUpperCase()), ...allowed.map((e) => ` ${e}`), 'guest', ''), unicodeText)
          .filter((x) => !allowed.includes(x))
          .map((json) => ({ json, how: `${field}: not in its enum ${JSON.stringify(json)}` })),
      );
    }
    const base = typeof current === 'string' && current.length > 0 ? current : 'x';
    options.push(
      fc.tuple(fc.nat({ max: base.length - 1 }), controlChar).map(([at, c]) => ({
        json: base.slice(0, at + 1) + c + base.slice(at + 1),
        how: `${field}: control character U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
      })),
    );
    const known = format(field);
    if (known) options.push(known.map((json) => ({ json, how: `${field}: ${JSON.stringify(json)}` })));
  }
  if (s.type === 'array') {
    if ((s.minItems ?? 0) >= 1) options.push(fc.constant({ json: [], how: `${field}: empty array` }));
    if (s.maxItems !== undefined) {
      const n = s.maxItems + 1;
      options.push(fc.constant({ raw: `[${new Array(n).fill('0').join(',')}]`, how: `${field}: ${n} items` }));
    }
    const item = s.items;
    if (item && (item.pattern || item.type)) {
      options.push(
        brokenValue(item, `${field}.0`, Array.isArray(current) ? current[0] : undefined).map((b) => ({
          raw: `[${b.raw ?? JSON.stringify(b.json)}]`,
          how: b.how,
        })),
      );
    }
  }
  return fc.oneof(...options);
}

/** Values the document's schema does not describe, known from the contract (API.md) to be refused. */
function format(field: string): fc.Arbitrary<string> | undefined {
  if (['from', 'to', 'checkIn', 'checkOut'].includes(field)) return badDate;
  if (field === 'country') return fc.string({ maxLength: 4 }).filter((s) => !/^[A-Z]{2}$/.test(s));
  if (field === 'currency') return fc.string({ maxLength: 5 }).filter((s) => !/^[A-Z]{3}$/.test(s));
  if (field === 'timezone') {
    return fc.oneof(
      fc.constantFrom('Mars/Olympus', '+02:00', 'Europe/Paris ', '../etc/passwd', '', 'Europe//Paris', `A${'b'.repeat(64)}`),
      fc.string({ maxLength: 20 }).map((s) => `${s}#`),
    );
  }
  return undefined;
}

/** A value that may or may not be valid for the field: noise around the valid template. */
function noiseValue(s: JsonSchema, current: unknown): fc.Arbitrary<unknown> {
  const types = allowedTypes(s);
  if (typeof current === 'string') return fc.oneof({ weight: 3, arbitrary: fc.constant(current) }, unicodeText, fc.constant(current.toUpperCase()), fc.constant(` ${current} `));
  if (types.includes('integer')) return fc.oneof({ weight: 3, arbitrary: fc.constant(current) }, fc.integer({ min: s.minimum ?? -5, max: Math.min(s.maximum ?? 5, (s.minimum ?? 0) + 50) }));
  return fc.constant(current);
}

/** Every field of an object schema, nested objects included, with its path. */
function fieldsOf(s: JsonSchema, prefix: string[] = []): { path: string[]; schema: JsonSchema; required: boolean; parent: JsonSchema }[] {
  const out: { path: string[]; schema: JsonSchema; required: boolean; parent: JsonSchema }[] = [];
  for (const [k, p] of Object.entries(s.properties ?? {})) {
    out.push({ path: [...prefix, k], schema: p, required: (s.required ?? []).includes(k), parent: s });
    if (p.type === 'object') out.push(...fieldsOf(p, [...prefix, k]));
  }
  return out;
}

const getAt = (v: any, path: string[]) => path.reduce((o, k) => (o && typeof o === 'object' ? o[k] : undefined), v);
function setAt(v: any, path: string[], x: unknown, remove = false) {
  let o = v;
  for (const k of path.slice(0, -1)) {
    if (!o[k] || typeof o[k] !== 'object' || Array.isArray(o[k])) o[k] = {};
    o = o[k];
  }
  const last = path[path.length - 1];
  if (remove) delete o[last];
  else o[last] = x;
}

type Break = (body: Body, n: number) => void;

/**
 * A body the schema refuses: the valid template with noise on some fields, then at least one break that no later
 * change undoes (each break leaves its field wrong; a whole-body break replaces the text).
 */
export function brokenBody(schema: JsonSchema, template: unknown, semantic: fc.Arbitrary<{ patch: Record<string, unknown>; how: string }>[] = []): fc.Arbitrary<Part<Body>> {
  const fields = fieldsOf(schema);
  const objects = [schema, ...fields.filter((f) => f.schema.type === 'object').map((f) => f.schema)];
  const objectPaths = new Map<JsonSchema, string[]>([[schema, []], ...fields.filter((f) => f.schema.type === 'object').map((f) => [f.schema, f.path] as [JsonSchema, string[]])]);

  const fieldBreak: fc.Arbitrary<{ apply: Break; how: string }> = fc
    .constantFrom(...fields)
    .chain((f) => brokenValue(f.schema, f.path.join('.'), getAt(template, f.path)).map((b) => ({ f, b })))
    .map(({ f, b }) => ({
      how: b.how,
      apply: (body: Body, n: number) => {
        if (b.raw !== undefined) {
          const marker = `__raw_${n}__`;
          body.raw = { ...body.raw, [JSON.stringify(marker)]: b.raw };
          setAt(body.value, f.path, marker);
        } else setAt(body.value, f.path, b.json);
      },
    }));
  const required = fields.filter((f) => f.required);
  const removeRequired: fc.Arbitrary<{ apply: Break; how: string }>[] = required.length
    ? [fc.constantFrom(...required).map((f) => ({ how: `${f.path.join('.')}: missing`, apply: (body: Body) => setAt(body.value, f.path, undefined, true) }))]
    : [];
  const strict = objects.filter((o) => o.additionalProperties === false);
  const unknownKey: fc.Arbitrary<{ apply: Break; how: string }> = fc
    .tuple(fc.constantFrom(...strict), fc.oneof(fc.constantFrom('id', 'createdAt', 'bogus', 'constructor', 'toString', 'NAME'), fc.string({ minLength: 1, maxLength: 12 })), fc.jsonValue({ maxDepth: 1 }))
    .filter(([o, k]) => !(k in (o.properties ?? {})))
    .map(([o, k, v]) => ({
      how: `unknown field ${JSON.stringify(k)}`,
      apply: (body: Body) => {
        setAt(body.value, [...objectPaths.get(o)!, k], v);
      },
    }));
  // `__proto__` and a repeated key can only be written as text: the key goes in raw, in place of a marker field.
  const rawKey: fc.Arbitrary<{ apply: Break; how: string }> = fc.constantFrom('__proto__', 'dup').map((kind) => ({
    how: kind === '__proto__' ? 'a "__proto__" field' : 'a repeated key whose last value is of the wrong type',
    apply: (body: Body, n: number) => {
      const marker = `__key_${n}__`;
      const first = Object.keys(schema.properties ?? {})[0];
      const text = kind === '__proto__' ? `"__proto__":{"admin":true}` : `"${first}":[]`;
      body.raw = { ...body.raw, [`"${marker}":0`]: text };
      (body.value as Record<string, unknown>)[marker] = 0;
    },
  }));
  const semanticBreaks = semantic.map((a) => a.map((s) => ({ how: s.how, apply: (body: Body) => Object.assign(body.value as object, s.patch) })));
  const oneBreak = fc.oneof(
    { weight: 6, arbitrary: fieldBreak },
    { weight: 1, arbitrary: fc.oneof(...removeRequired, unknownKey) },
    { weight: 1, arbitrary: rawKey },
    ...semanticBreaks.map((arbitrary) => ({ weight: 3, arbitrary })),
  );
  const wholeBody: fc.Arbitrary<Part<Body>> = fc
    .oneof(
      fc.constantFrom('', '{', '{"a":', 'null', 'true', '0', '"text"', '[]', '[{}]', '{}x', '\ufeff{', "{'a':1}", '{"a":1,}', 'NaN', '\u0000'),
      fc.json({ maxDepth: 2 }).filter((t) => !t.startsWith('{')),
      fc.string({ maxLength: 40 }),
    )
    .map((text) => ({ value: { text }, broken: true, how: `body ${JSON.stringify(text)}` }));
  const patched: fc.Arbitrary<Part<Body>> = fc
    .tuple(
      fc.array(fc.constantFrom(...fields.filter((f) => f.schema.type !== 'object')), { maxLength: 3 }).chain((fs) =>
        fc.tuple(...fs.map((f) => noiseValue(f.schema, getAt(template, f.path)).map((v) => ({ f, v })))),
      ),
      fc.array(oneBreak, { minLength: 1, maxLength: 3 }),
    )
    .map(([noise, breaks]) => {
      const body: Body = { value: structuredClone(template) };
      for (const { f, v } of noise) setAt(body.value, f.path, v);
      breaks.forEach((b, n) => b.apply(body, n));
      return { value: body, broken: true, how: breaks.map((b) => b.how).join('; ') };
    });
  return fc.oneof({ weight: 1, arbitrary: wholeBody }, { weight: 5, arbitrary: patched });
}

// Headers and tokens --------------------------------------------------------------------------------------------------

/** An Authorization header for a token kind (undefined: none). Valid tokens come in every form the scheme allows. */
export function authorization(kind: TokenKind, tokens: Record<string, string>): fc.Arbitrary<string | undefined> {
  if (kind === 'none') return fc.constantFrom(undefined, '', '   ');
  if (kind !== 'junk') {
    const t = tokens[kind];
    return fc.tuple(fc.constantFrom('Bearer ', 'bearer ', 'BEARER ', 'Bearer   ', 'Bearer\t'), fc.constantFrom('', ' ', '\t')).map(([a, b]) => `${a}${t}${b}`);
  }
  const known = new Set(Object.values(tokens));
  const admin = tokens.admin;
  return fc
    .oneof(
      fc.constantFrom('Bearer', 'Bearer ', 'Basic dXNlcjpwYXNz', `Token ${admin}`, admin, `Bearer ${admin}x`, `Bearer ${admin.slice(0, -1)}`, `Bearer ${admin} ${admin}`, `Bearer "${admin}"`, 'Bearer null', 'Bearer undefined'),
      fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 8, maxLength: 64 }).map((h) => `Bearer bk_${h}`),
      fc.string({ unit: fc.constantFrom(...'ABCDEFabcdef0123456789-_'), minLength: 8, maxLength: 64 }).map((h) => `Bearer bs_${h}`),
      fc.constantFrom(...Object.values(tokens)).map((t) => `Bearer ${t.slice(0, -2)}${t.slice(-1)}${t.slice(-2, -1)}`),
      headerValue(80).map((s) => `Bearer ${s}`),
      headerValue(80),
      fc.integer({ min: 1000, max: 8000 }).map((n) => `Bearer ${'A'.repeat(n)}`),
    )
    .filter((h) => {
      if (h.trim() === '') return false;
      const m = /^Bearer\s+(\S+)\s*$/i.exec(h.trim());
      return !(m && known.has(m[1]));
    });
}

export interface Headers {
  [name: string]: string;
}

/**
 * Headers that may or may not make sense: media types, encodings, idempotency keys, event ids, and the like. Each is
 * absent most of the time, so that the other parts of a request still reach what lies behind the body parser.
 */
/** `a` once in `outOf` times, else undefined. */
const sometimes = <T>(a: fc.Arbitrary<T>, outOf: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: outOf - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: a });
export const noiseHeaders: fc.Arbitrary<Headers> = fc
  .record({
    'content-type': sometimes(
      fc.oneof(
        fc.constantFrom(
          'application/json; charset=utf-8',
          'application/json; charset="UTF-8"',
          'application/json; charset=utf-16',
          'application/json; charset=latin1',
          'APPLICATION/JSON',
          'application/vnd.api+json',
          'application/merge-patch+json',
          'text/plain',
          'text/json',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/json;;',
          'application/',
          '*/*',
          '',
        ),
        headerValue(40),
      ),
      4,
    ),
    'content-encoding': sometimes(fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-junk', 'gzip, gzip'), 10),
    'idempotency-key': sometimes(fc.oneof(headerValue(40), fc.integer({ min: 190, max: 400 }).map((n) => 'k'.repeat(n)), fc.uuid()), 3),
    'last-event-id': sometimes(fc.oneof(fc.constantFrom('0', '-1', '1e3', '999999999999999999999', ' 5 ', 'NaN'), headerValue(20)), 3),
    accept: sometimes(fc.constantFrom('text/event-stream', 'application/xml', '*/*', 'image/png'), 4),
    'x-forwarded-for': sometimes(fc.constantFrom('127.0.0.1', '::1', '1.1.1.1, 2.2.2.2', 'junk'), 6),
    'accept-encoding': sometimes(fc.constantFrom('gzip', 'br', '*', 'identity;q=0'), 6),
  })
  .map((h) => Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)) as Headers);

// Sending --------------------------------------------------------------------------------------------------------------

export interface RawResult {
  status: number;
  contentType: string;
  text: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

export function closeAgent(): void {
  agent.destroy();
}

/**
 * One request exactly as given: the path is sent as is (no normalization of dot segments or escapes), the body as
 * one piece with a Content-Length, or chunked. A streaming answer (text/event-stream) is closed once its head is in.
 */
export function sendRaw(baseUrl: string, method: string, path: string, headers: Headers, body: string | undefined, chunked = false): Promise<RawResult> {
  const url = new URL(baseUrl);
  // Node frames a GET's or DELETE's body only when told how: without this, the body would be read as the next request.
  if (body !== undefined && !headers['transfer-encoding']) {
    headers = chunked && body.length > 1 ? { ...headers, 'transfer-encoding': 'chunked' } : { ...headers, 'content-length': String(Buffer.byteLength(body)) };
  }
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method, path, headers, agent, timeout: 15_000 },
      (res) => {
        const contentType = String(res.headers['content-type'] ?? '');
        if (contentType.startsWith('text/event-stream')) {
          res.destroy();
          resolve({ status: res.statusCode ?? 0, contentType, text: '' });
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within 15 s: ${method} ${path}`)));
    req.on('error', reject);
    if (body === undefined) req.end();
    else if (chunked && body.length > 1) {
      req.write(body.slice(0, body.length >> 1));
      req.end(body.slice(body.length >> 1));
    } else req.end(body);
  });
}

export const freshUuid = () => randomUUID();
