// The baseline of `registre suppression filter`: the fastest plain Node script we know that does
// the same on a list whose address is the first column, unquoted: the list's hashes into a Set,
// then the file read in large chunks, split at each LF, each address trimmed, lower-cased and
// hashed (HMAC-SHA-256, the key imported once), the kept lines written as they were.
// Usage: node bench/suppression-baseline.js SHOP.sqlite KEYFILE MAILING.csv OUT.csv
import { createHmac, createSecretKey } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';

const [dbPath, keyPath, file, out] = process.argv.slice(2);
const key = createSecretKey(Buffer.from(readFileSync(keyPath, 'utf8').trimEnd(), 'utf8'));
const db = new Database(dbPath, { readonly: true });
const listed = new Set(db.prepare('SELECT email_hmac FROM suppression_list').pluck().all());
db.close();

const input = openSync(file, 'r');
const output = openSync(out, 'wx', 0o600);
const CHUNK = 1 << 20;
let carry = Buffer.alloc(0);
let header = true;
let rows = 0;
let kept = 0;
for (;;) {
  const chunk = Buffer.allocUnsafe(CHUNK);
  const n = readSync(input, chunk, 0, CHUNK, null);
  const buf = n === 0 ? carry : Buffer.concat([carry, chunk.subarray(0, n)]);
  const parts = [];
  let start = 0;
  for (
    let nl = buf.indexOf(10, start);
    nl >= 0 || (n === 0 && start < buf.length);
    nl = buf.indexOf(10, start)
  ) {
    const end = nl >= 0 ? nl + 1 : buf.length;
    if (header) {
      header = false;
      parts.push(buf.subarray(start, end));
    } else {
      rows++;
      const comma = buf.indexOf(44, start);
      const address = buf
        .toString('utf8', start, comma >= 0 && comma < end ? comma : end)
        .trim()
        .toLowerCase();
      if (!listed.has(createHmac('sha256', key).update(address).digest('hex'))) {
        kept++;
        parts.push(buf.subarray(start, end));
      }
    }
    start = end;
    if (nl < 0) break;
  }
  const data = Buffer.concat(parts);
  for (let done = 0; done < data.length; ) done += writeSync(output, data, done, data.length - done);
  if (n === 0) break;
  carry = Buffer.from(buf.subarray(start));
}
closeSync(input);
closeSync(output);
process.stdout.write(
  `${JSON.stringify({ rows, kept, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`,
);
