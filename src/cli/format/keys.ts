/** What key generate and key rotate print. */
import { relative } from 'node:path';
import type { KeyGenerated } from '../../app/keys.js';
import type { Output } from '../shared.js';

export function printKeyGenerated(io: Output, key: KeyGenerated): void {
  io.out(`key ${key.keyId} written to ${key.path}\n`);
  io.err(
    key.config
      ? `use it with "hmacKey: ${key.reference}" in ${relative(process.cwd(), key.config) || key.config} (its paths are relative to its folder)\n`
      : `use it with "hmacKey: ${key.reference}" in a registre.yaml in this folder (no configuration found; its paths are relative to its folder: give --config to name it)\n`,
  );
}

export function printKeyRotated(io: Output, r: { from: string; to: string; entries: number }): void {
  io.out(`audit log of ${r.entries} entries moved from key ${r.from} to key ${r.to}\n`);
  io.err('the configuration now names the new key in hmacKey and keeps the old one in previousKeys\n');
}
