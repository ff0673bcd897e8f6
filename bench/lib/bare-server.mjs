#!/usr/bin/env node
/**
 * The floor of the serve bench: a bare Node http server doing what the event route does at the HTTP level
 * (read the body, parse its JSON, answer 202 with an id), in its own process like `taskops serve`.
 * Prints `listening <port>` once it listens on 127.0.0.1.
 */
import http from 'node:http';

let n = 0;
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    JSON.parse(Buffer.concat(chunks).toString('utf8'));
    res.writeHead(202, { 'content-type': 'application/json' }).end(`{"id":"evt-${++n}"}`);
  });
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`listening ${server.address().port}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
