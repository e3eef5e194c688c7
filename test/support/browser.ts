// The browser tests' harness: Debian's chromium through playwright-core (never a downloaded browser), against the
// real stack in this process with its own databases and Redis prefix. Contexts are closed after each test; the
// browser, the stack and its databases after the suite.
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Page } from 'playwright-core';
import { createTestEnv, type TestEnv } from './env.js';
import { startStack, type Stack } from './stack.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export interface BrowserSuite {
  /** The stack, the test environment and the browser (set once the suite's `before` has run). */
  readonly stack: Stack;
  readonly env: TestEnv;
  readonly browser: Browser;
  /** Uncaught errors of every page opened through `newPage`, for a last test to check. */
  readonly pageErrors: string[];
  /** A fresh context (its own storage), closed after the test. */
  newContext(options: BrowserContextOptions): Promise<BrowserContext>;
  /** A page of that context whose uncaught errors are collected. */
  newPage(context: BrowserContext): Promise<Page>;
}

/** Registers the suite's hooks (call it inside `describe`); `started` runs once the stack is up. */
export function browserSuite(o: { vars?: Record<string, string>; started?: (stack: Stack) => void } = {}): BrowserSuite {
  let env: TestEnv | undefined;
  let stack: Stack | undefined;
  let browser: Browser | undefined;
  const contexts = new Set<BrowserContext>();
  const pageErrors: string[] = [];

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `The browser tests need Debian's chromium at ${CHROMIUM}, which does not exist. ` +
          'Install it with `apt-get install chromium` (.ci/run does this when it is missing).',
      );
    }
    env = await createTestEnv(o.vars);
    stack = await startStack(env.config);
    o.started?.(stack);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  after(async function () {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close().catch(() => {});
    await stack?.stop();
    await env?.cleanup();
  });

  afterEach(async function () {
    for (const c of contexts) await c.close().catch(() => {});
    contexts.clear();
  });

  return {
    get stack() {
      return stack!;
    },
    get env() {
      return env!;
    },
    get browser() {
      return browser!;
    },
    pageErrors,
    async newContext(options) {
      const context = await browser!.newContext(options);
      contexts.add(context);
      return context;
    },
    async newPage(context) {
      const page = await context.newPage();
      page.on('pageerror', (err) => pageErrors.push(`${page.url()}: ${err.message}`));
      return page;
    },
  };
}
