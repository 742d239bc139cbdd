// Node's `web-push` against the same fake push service as our sender, for bench/push.py.
//
// Sends N messages to N endpoints with web-push's own sendNotification() (its
// encryption, its VAPID header, its request), the same payload, TTL, urgency, topic and
// VAPID key as the Python side, at most CONCURRENCY in flight. web-push speaks HTTPS
// only; the fake push service speaks plain HTTP on loopback, as our sender does to it.
// So its request goes through an https.Agent whose connections are plain TCP: the same
// work on both sides, no TLS on either. Keep-alive, as Node's global agent has it.
//
// Prints one JSON line: CPU of this process (process.cpuUsage) for the measured N,
// after a warm-up that is not counted (JIT, first connections).
//
//   node bench/push_node.mjs '<json config>'     (bench/push.py writes the config)

import { createRequire } from 'node:module';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(HERE, '.node', 'package.json'));
const webpush = require('web-push');

const config = JSON.parse(process.argv[2]);

class PlainAgent extends https.Agent {
  createConnection(options, callback) {
    return net.createConnection({ host: options.host, port: options.port }, callback);
  }
}

const agent = new PlainAgent({ keepAlive: true, maxSockets: config.concurrency });
const options = {
  TTL: config.ttl,
  urgency: config.urgency,
  topic: config.topic,
  vapidDetails: {
    subject: config.subject,
    publicKey: config.vapid_public,
    privateKey: config.vapid_private,
  },
  contentEncoding: 'aes128gcm',
  timeout: 10000,
  agent,
};
const payload = Buffer.from(config.payload, 'utf8');
const keys = { p256dh: config.p256dh, auth: config.auth };

async function sendAll(prefix, n) {
  const statuses = {};
  let next = 0;
  async function lane() {
    while (next < n) {
      const i = next++;
      const subscription = { endpoint: `${config.url}/push/${prefix}-${i}`, keys };
      let status;
      try {
        status = (await webpush.sendNotification(subscription, payload, options)).statusCode;
      } catch (err) {
        status = err.statusCode || err.code || 'error';
      }
      statuses[status] = (statuses[status] || 0) + 1;
    }
  }
  await Promise.all(Array.from({ length: Math.min(config.concurrency, n) }, lane));
  return statuses;
}

await sendAll('node-warm', config.warmup);
const started = process.hrtime.bigint();
const before = process.cpuUsage();
const statuses = await sendAll('node', config.n);
const cpu = process.cpuUsage(before);
const wall = Number(process.hrtime.bigint() - started) / 1e9;
agent.destroy();
const cpuMs = (cpu.user + cpu.system) / 1000;
console.log(
  JSON.stringify({
    n: config.n,
    cpu_ms: cpuMs,
    cpu_ms_per_message: cpuMs / config.n,
    wall_s: wall,
    statuses,
    node: process.version,
    web_push: require('web-push/package.json').version,
  }),
);
