// A TCP proxy in front of a private Postgres, for chaos tests that cut the worker's connections.
import net from 'node:net';

/**
 * A TCP proxy in front of Postgres (for the worker): it can cut every connection at once, or cut the next
 * connection that commits a write right after the server committed it, before the client hears the answer.
 */
export class PgProxy {
  readonly port: number;
  private readonly server: net.Server;
  private readonly conns = new Set<ProxiedConnection>();
  /** Commits still to cut (each `cutAfterCommit` adds one). */
  private cutsArmed = 0;
  /** Commits cut so far. */
  cuts = 0;

  private constructor(server: net.Server, port: number) {
    this.server = server;
    this.port = port;
  }

  static async start(upstreamPort: number, commitPattern: (text: string) => boolean = isWriteCommit): Promise<PgProxy> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const proxy = new PgProxy(server, (server.address() as net.AddressInfo).port);
    server.on('connection', (client) => proxy.accept(client, upstreamPort, commitPattern));
    return proxy;
  }

  /** The URL of database `db` through the proxy, for the user of `directUrl`. */
  url(directUrl: string): string {
    const u = new URL(directUrl);
    u.port = String(this.port);
    return u.toString();
  }

  /** Cut every open connection (both sides) at once. */
  cutAll(): void {
    for (const c of this.conns) c.destroy();
  }

  /** Cut the next `n` connections that commit a write, each right after its commit, before the answer goes back. */
  cutAfterCommit(n = 1): void {
    this.cutsArmed += n;
  }

  get armed(): number {
    return this.cutsArmed;
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise((r) => this.server.close(() => r(undefined)));
  }

  private accept(client: net.Socket, upstreamPort: number, commitPattern: (text: string) => boolean): void {
    const upstream = net.connect(upstreamPort, '127.0.0.1');
    const conn = new ProxiedConnection(client, upstream);
    this.conns.add(conn);
    const gone = () => {
      conn.destroy();
      this.conns.delete(conn);
    };
    client.on('error', gone);
    upstream.on('error', gone);
    client.on('close', gone);
    upstream.on('close', gone);
    let tail = '';
    client.on('data', (d: Buffer) => {
      // Scan the client's stream (with the end of the previous chunk, in case a pattern spans two) for a commit.
      const text = tail + d.toString('latin1');
      tail = text.slice(-64);
      if (this.cutsArmed > 0 && !conn.cutting && commitPattern(text)) {
        this.cutsArmed--;
        conn.cutting = true;
      }
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      for (const frame of conn.frames(d)) {
        if (!conn.cutting) {
          client.write(frame);
          continue;
        }
        // The commit's answer: hold it back, and at ReadyForQuery (the transaction is over, committed) cut.
        if (frame[0] === 0x5a /* 'Z' */) {
          this.cuts++;
          gone();
          return;
        }
      }
    });
  }
}

/**
 * The writer's commit: the one-statement job write (extended protocol, named `shard-write-jobs-…`, an implicit
 * transaction committed at Sync) or a COMMIT of an explicit transaction (simple query).
 */
export function isWriteCommit(text: string): boolean {
  return text.includes('shard-write-jobs') || text.includes('COMMIT\u0000');
}

class ProxiedConnection {
  cutting = false;
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    private readonly client: net.Socket,
    private readonly upstream: net.Socket,
  ) {}

  /** Whole server messages (type byte, int32 length) in this chunk plus what was left of the previous one. */
  *frames(d: Buffer): Generator<Buffer> {
    this.pending = this.pending.length ? Buffer.concat([this.pending, d]) : d;
    let at = 0;
    while (this.pending.length - at >= 5) {
      const len = this.pending.readUInt32BE(at + 1);
      if (this.pending.length - at < 1 + len) break;
      yield this.pending.subarray(at, at + 1 + len);
      at += 1 + len;
    }
    this.pending = this.pending.subarray(at);
  }

  destroy(): void {
    this.client.destroy();
    this.upstream.destroy();
  }
}
