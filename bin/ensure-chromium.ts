// Part of `npm test`, before mocha: the browser tests (test/e2e/) drive Debian's chromium at /usr/bin/chromium with
// playwright-core. When it is missing, install it from Debian's packages (apt-get, as root or through sudo without a
// password) and say so in one line. Nothing else is downloaded: playwright's own browser builds are never used.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const chromium = '/usr/bin/chromium';

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** How to run a command as root here: directly, through `sudo -n`, or not at all. */
function asRoot(): string[] | undefined {
  if (process.getuid?.() === 0) return [];
  const sudo = spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' });
  return sudo.status === 0 ? ['sudo', '-n'] : undefined;
}

/** apt-get's own messages, shown only when the install fails. */
let aptSaid = '';

function run(prefix: string[], args: string[]): boolean {
  const [cmd, ...rest] = [...prefix, ...args];
  const r = spawnSync(cmd, rest, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  aptSaid += r.stderr ?? '';
  return r.status === 0;
}

if (!existsSync(chromium)) {
  const prefix = asRoot();
  if (!existsSync('/usr/bin/apt-get') || prefix === undefined) {
    say(`${chromium} is missing and cannot be installed here (needs apt-get as root or passwordless sudo): install Debian's chromium, or the browser tests will fail`);
    process.exit(1);
  }
  say(`${chromium} is missing: installing Debian's chromium for the browser tests (apt-get install -y chromium)`);
  // Wait for another apt-get holding the lock rather than failing at once.
  const lock = ['-o', 'DPkg::Lock::Timeout=300'];
  const ok = run(prefix, ['apt-get', ...lock, 'install', '-y', '-qq', 'chromium']) ||
    (run(prefix, ['apt-get', ...lock, 'update', '-qq']) && run(prefix, ['apt-get', ...lock, 'install', '-y', '-qq', 'chromium']));
  if (!ok || !existsSync(chromium)) {
    process.stderr.write(aptSaid);
    say(`installing chromium failed (apt-get's messages are above): install it by hand with \`apt-get install chromium\``);
    process.exit(1);
  }
}
