// One webhook attempt: the SSRF guard, both signatures (API.md), a POST with a 15 s limit, and what it answered.
import { createHmac, randomBytes } from 'node:crypto';
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';

export const webhookTimeoutMs = 15_000;

/** A new secret: `whsec_` + base64 of 32 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** Both signatures of a body (API.md): `X-Signature` and the Standard Webhooks headers. */
export function signatureHeaders(secret: string, eventId: string, timestampSeconds: number, body: string): Record<string, string> {
  const hex = createHmac('sha256', secret).update(body).digest('hex');
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
  const v1 = createHmac('sha256', key).update(`${eventId}.${timestampSeconds}.${body}`).digest('base64');
  return {
    'X-Signature': `sha256=${hex}`,
    'webhook-id': eventId,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': `v1,${v1}`,
  };
}

/** Whether an address is loopback, private, link-local, or otherwise not a public unicast address. */
export function isPrivateAddress(address: string): boolean {
  let a = address;
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  if (net.isIPv4(a)) return isPrivateIPv4(a.split('.').map(Number));
  const g = ipv6Groups(a);
  if (!g) return true;
  // An IPv4 address inside an IPv6 one is judged as that IPv4 address, however the IPv6 one is written (URL parsing
  // turns [::ffff:127.0.0.1] into [::ffff:7f00:1]): mapped ::ffff:0:0/96, the NAT64 prefix 64:ff9b::/96, 6to4
  // 2002::/16.
  const v4 = (hi: number, lo: number) => [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff];
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && g[5] === 0xffff) return isPrivateIPv4(v4(g[6], g[7]));
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return isPrivateIPv4(v4(g[6], g[7]));
  if (g[0] === 0x2002) return isPrivateIPv4(v4(g[1], g[2]));
  return (
    // ::/96: unspecified, loopback and the deprecated IPv4-compatible addresses (::127.0.0.1).
    zeros(0, 6) ||
    // 100::/64 discard-only; 64:ff9b:1::/48 local-use NAT64; 2001::/32 Teredo (an IPv4 address inside, obfuscated);
    // 2001:db8::/32 documentation.
    (g[0] === 0x100 && zeros(1, 4)) ||
    (g[0] === 0x64 && g[1] === 0xff9b && g[2] === 1) ||
    (g[0] === 0x2001 && (g[1] === 0 || g[1] === 0xdb8)) ||
    // fc00::/7 unique local, fe80::/10 link-local, fec0::/10 site-local (deprecated), ff00::/8 multicast.
    (g[0] & 0xfe00) === 0xfc00 ||
    (g[0] & 0xffc0) === 0xfe80 ||
    (g[0] & 0xffc0) === 0xfec0 ||
    (g[0] & 0xff00) === 0xff00
  );
}

function isPrivateIPv4([x, y, z]: number[]): boolean {
  return (
    x === 0 || x === 10 || x === 127 || x >= 224 ||
    (x === 100 && y >= 64 && y < 128) ||
    (x === 169 && y === 254) ||
    (x === 172 && y >= 16 && y < 32) ||
    (x === 192 && y === 168) ||
    (x === 192 && y === 0 && (z === 0 || z === 2)) ||
    (x === 198 && (y === 18 || y === 19))
  );
}

/** The eight 16-bit groups of an IPv6 address (`::` expanded, a trailing dotted IPv4 part as two), or undefined. */
function ipv6Groups(text: string): number[] | undefined {
  if (!net.isIPv6(text)) return undefined;
  let t = text.toLowerCase();
  const zone = t.indexOf('%');
  if (zone >= 0) t = t.slice(0, zone);
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(t);
  if (dotted) {
    const [a, b, c, d] = dotted[2].split('.').map(Number);
    t = `${dotted[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = t.split('::');
  const parse = (part: string | undefined) => (part ? part.split(':').map((x) => parseInt(x, 16)) : []);
  const h = parse(head);
  const tl = parse(tail);
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - tl.length).fill(0), ...tl];
  return groups.length === 8 && groups.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffff) ? groups : undefined;
}

/** Why a URL may not receive webhooks (scheme, or where it resolves), or undefined when it may. */
export async function urlProblem(text: string, allowPrivate: boolean): Promise<string | undefined> {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return 'must be an absolute http(s) URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'must be an http(s) URL';
  if (u.username || u.password) return 'must not carry credentials';
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (net.isIP(host)) return !allowPrivate && isPrivateAddress(host) ? 'resolves to a loopback, private or link-local address' : undefined;
  // A host that does not resolve is refused whatever WEBHOOK_ALLOW_PRIVATE says (it only allows private addresses).
  let addresses: { address: string }[];
  try {
    addresses = await withTimeout(dns.promises.lookup(host, { all: true }), 3_000);
  } catch {
    return 'host does not resolve';
  }
  if (addresses.length === 0) return 'host does not resolve';
  if (!allowPrivate && addresses.some((x) => isPrivateAddress(x.address))) return 'resolves to a loopback, private or link-local address';
  return undefined;
}

export type AttemptResult =
  | { ok: true; status: number }
  | { ok: false; status: number | null; error: string; retryAfterMs?: number; gone?: boolean };

/**
 * POST a body to a URL, signed. Only a 2xx within 15 s is a delivery. The address is checked again at connection
 * (a name that resolves elsewhere since registration is refused), and the request goes to the address checked.
 */
export function attempt(url: string, headers: Record<string, string>, body: string, allowPrivate: boolean, timeoutMs = webhookTimeoutMs, agents?: { http: http.Agent; https: https.Agent }): Promise<AttemptResult> {
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      resolve({ ok: false, status: null, error: 'invalid URL' });
      return;
    }
    const literal = u.hostname.replace(/^\[|\]$/g, '');
    if (!allowPrivate && net.isIP(literal) && isPrivateAddress(literal)) {
      resolve({ ok: false, status: null, error: 'address not allowed (loopback, private or link-local)' });
      return;
    }
    const lookup: net.LookupFunction = (hostname, options, cb) => {
      dns.lookup(hostname, { ...options, all: false }, (err, address, family) => {
        if (err) return cb(err, address, family);
        if (!allowPrivate && isPrivateAddress(address as string)) {
          return cb(new Error(`address not allowed (loopback, private or link-local): ${address}`), address, family);
        }
        if ((options as { all?: boolean }).all) return (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: address as string, family }]);
        cb(null, address, family);
      });
    };
    const mod = u.protocol === 'https:' ? https : http;
    let done = false;
    const finish = (r: AttemptResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = mod.request(
      u,
      {
        method: 'POST',
        lookup,
        // A lane's keep-alive agent (its sockets were checked when they connected), else a new connection.
        agent: agents ? (u.protocol === 'https:' ? agents.https : agents.http) : false,
        headers: { 'Content-Type': 'application/json', 'User-Agent': 'reservation-engine-webhooks/1', 'Content-Length': Buffer.byteLength(body), ...headers },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        res.resume();
        res.on('error', () => {});
        if (status >= 200 && status < 300) {
          finish({ ok: true, status });
          return;
        }
        const r: AttemptResult = { ok: false, status, error: `HTTP ${status}` };
        if (status === 410) r.gone = true;
        if (status === 429 || status === 503) {
          const ra = retryAfterMs(res.headers['retry-after']);
          if (ra !== undefined) r.retryAfterMs = ra;
        }
        finish(r);
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    req.on('error', (err) => finish({ ok: false, status: null, error: err.message }));
    req.end(body);
  });
}

/** Keep-alive agents for one webhook's lane, at most `sockets` connections. */
export function laneAgents(sockets: number): { http: http.Agent; https: https.Agent } {
  return { http: new http.Agent({ keepAlive: true, maxSockets: sockets }), https: new https.Agent({ keepAlive: true, maxSockets: sockets }) };
}

/** Retry-After as seconds or an HTTP date, in ms from now (capped at a day). */
export function retryAfterMs(v: string | string[] | undefined): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) return undefined;
  const dayMs = 24 * 3600_000;
  if (/^\d+$/.test(s.trim())) return Math.min(dayMs, Number(s.trim()) * 1000);
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : Math.min(dayMs, Math.max(0, t - Date.now()));
}

/** API.md: retried after about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h. */
export const retryScheduleMs = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 50_400_000, 72_000_000, 86_400_000];

/**
 * When to try again after the n-th failed attempt (1-based), or null when the schedule is spent. A `Retry-After`
 * longer than the schedule's step is waited for; a shorter one does not hasten it, so that every retry comes at
 * least a step after the last and the last one after the three days API.md promises (a receiver answering 429 with
 * `Retry-After: 2` spent the whole schedule in seconds). The jitter only delays (0 to +10%): the schedule adds up to
 * 75.6 h, and a jitter that could also hasten each retry would bring the last attempt before those three days (a
 * 10% earlier schedule ends at 68 h).
 */
export function nextAttemptDelayMs(failedAttempts: number, scale: number, retryAfter?: number): number | null {
  if (failedAttempts > retryScheduleMs.length) return null;
  const base = Math.max(retryAfter ?? 0, retryScheduleMs[failedAttempts - 1]);
  return Math.round(base * scale * (1 + Math.random() * 0.1));
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
