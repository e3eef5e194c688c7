// The worker-thread pool that parses, validates and splits partner batches off the API's event loop.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';

const taskFile = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../workers/batch-split.js');

/**
 * Threads load the task with import(), never with require() of an ES module: on Node 20, a thread terminated (the
 * pool destroyed at shutdown) while require() is instantiating an ES module aborts the whole process ("FATAL ERROR:
 * v8::Module::IsGraphAsync must be used on an instantiated module"). Piscina tries require() first, so require of
 * ES modules is turned off in its threads, where the running Node knows the flag.
 */
const threadExecArgv = process.allowedNodeEnvironmentFlags.has('--no-experimental-require-module')
  ? [...process.execArgv, '--no-experimental-require-module']
  : process.execArgv;

export function createBatchPool(): Piscina {
  return new Piscina({
    filename: taskFile,
    minThreads: 1,
    maxThreads: 2,
    maxQueue: 64,
    // Threads stay between batches: starting one costs more than most batches take to split.
    idleTimeout: 60_000,
    execArgv: threadExecArgv,
  });
}
