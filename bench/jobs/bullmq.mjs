// BullMQ baseline for Plinth's job-queue benchmark. Prints one JSON line to stdout.
//
//   node bullmq.mjs throughput [--jobs 10000] [--concurrency 8] [--batch 1000] [--overlap]
//   node bullmq.mjs latency    [--jobs 2000]  [--concurrency 8] [--rate 200] [--warmup 20]
//
// Common: [--queue plinth-bench] [--timeout 300] (seconds); Redis from $REDIS_URL
// (default redis://127.0.0.1:6379). See README.md for what is measured.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    jobs: { type: 'string' },
    concurrency: { type: 'string', default: '8' },
    batch: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '20' },
    overlap: { type: 'boolean', default: false },
    queue: { type: 'string', default: 'plinth-bench' },
    timeout: { type: 'string', default: '300' },
  },
});
const mode = positionals[0];
if (mode !== 'throughput' && mode !== 'latency') {
  console.error('usage: node bullmq.mjs throughput|latency [options] (see the head of this file)');
  process.exit(2);
}
const int = (name) => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
  return n;
};
const jobs = values.jobs === undefined ? (mode === 'throughput' ? 10000 : 2000) : int('jobs');
const concurrency = int('concurrency');
const timeoutMs = int('timeout') * 1000;

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
// Separate connections: the worker's must not give up on blocking commands. Both give up
// reconnecting after ~2 s, so that an unreachable Redis fails the run instead of hanging it.
const retryStrategy = (times) => (times > 10 ? null : 200);
const queueConn = new IORedis(redisUrl, { retryStrategy });
const workerConn = new IORedis(redisUrl, { retryStrategy, maxRetriesPerRequest: null });
const queue = new Queue(values.queue, { connection: queueConn });
// What a production deployment keeps: the last 1000 completed and failed jobs.
const keep = { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } };
let worker;

// Resolves once `n` jobs have completed on `worker`; rejects on a failed job or timeout.
function completions(n) {
  const p = new Promise((resolve, reject) => {
    let done = 0;
    const timer = setTimeout(() => reject(new Error(`timeout: ${done}/${n} jobs completed`)), timeoutMs);
    worker.on('completed', () => {
      if (++done === n) { clearTimeout(timer); resolve(); }
    });
    worker.on('failed', (job, err) => { clearTimeout(timer); reject(err); });
    worker.on('error', (err) => { clearTimeout(timer); reject(err); });
  });
  p.catch(() => {}); // may reject before it is awaited; the await still throws
  return p;
}

async function addInBatches(n, batch) {
  for (let i = 0; i < n; i += batch) {
    const size = Math.min(batch, n - i);
    await queue.addBulk(Array.from({ length: size }, () => ({ name: 'noop', data: {} })));
  }
}

async function throughput() {
  const batch = int('batch') || 1000;
  const noop = async () => {};
  if (values.overlap) {
    // Worker running first; time from the first add until the last completion.
    worker = new Worker(values.queue, noop, { connection: workerConn, concurrency, ...keep });
    await worker.waitUntilReady();
    const done = completions(jobs);
    const t0 = performance.now();
    await addInBatches(jobs, batch);
    await done;
    return { mode: 'throughput-overlap', jobs, seconds: (performance.now() - t0) / 1000 };
  }
  // Everything enqueued first; time from worker start until the last completion.
  const e0 = performance.now();
  await addInBatches(jobs, batch);
  const enqueueSeconds = (performance.now() - e0) / 1000;
  worker = new Worker(values.queue, noop, { connection: workerConn, concurrency, autorun: false, ...keep });
  await worker.waitUntilReady();
  const done = completions(jobs);
  const t0 = performance.now();
  worker.run().catch(() => {}); // errors surface through the 'error' event
  await done;
  return { mode: 'throughput', jobs, seconds: (performance.now() - t0) / 1000, enqueue_seconds: enqueueSeconds };
}

async function latency() {
  const rate = int('rate') || 200;
  const warmup = int('warmup');
  const lat = [];
  // Producer and worker share this process, hence this clock.
  worker = new Worker(values.queue, async (job) => {
    const ms = performance.now() - job.data.t;
    if (!job.data.warmup) lat.push(ms);
  }, { connection: workerConn, concurrency, ...keep });
  await worker.waitUntilReady();
  const done = completions(warmup + jobs);

  // Open-loop pacing: job i is due at t0 + i/rate, however long earlier adds took.
  const t0 = performance.now();
  for (let i = 0; i < warmup + jobs; i++) {
    const wait = t0 + (i * 1000) / rate - performance.now();
    if (wait > 0) await sleep(wait);
    await queue.add('noop', { t: performance.now(), warmup: i < warmup });
  }
  const rateAchieved = (warmup + jobs) / ((performance.now() - t0) / 1000);
  await done;

  lat.sort((a, b) => a - b);
  const pct = (p) => lat[Math.max(0, Math.ceil(p * lat.length) - 1)]; // nearest rank
  const r3 = (x) => Math.round(x * 1000) / 1000;
  return {
    mode: 'latency', jobs, p50_ms: r3(pct(0.5)), p90_ms: r3(pct(0.9)), p99_ms: r3(pct(0.99)),
    max_ms: r3(lat[lat.length - 1]), rate, rate_achieved: Math.round(rateAchieved),
  };
}

let failed = false;
try {
  await queue.obliterate({ force: true });
  const r = await (mode === 'throughput' ? throughput() : latency());
  if (r.seconds !== undefined) {
    r.jobs_per_s = Math.round(r.jobs / r.seconds);
    r.seconds = Math.round(r.seconds * 1000) / 1000;
  }
  if (r.enqueue_seconds !== undefined) r.enqueue_seconds = Math.round(r.enqueue_seconds * 1000) / 1000;
  console.log(JSON.stringify({ system: 'bullmq', ...r, concurrency }));
} catch (err) {
  console.error(err);
  failed = true;
} finally {
  try {
    await worker?.close();
    if (!failed) await queue.obliterate({ force: true });
    await queue.close();
  } catch (err) {
    console.error(err);
    failed = true;
  }
  queueConn.disconnect();
  workerConn.disconnect();
}
process.exit(failed ? 1 : 0);
