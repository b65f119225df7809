/** What key generate and key rotate print. */
import { relative } from 'node:path';
import type { KeyGenerated, KeyRotated } from '../../app/keys.js';
import type { Output } from '../shared.js';

export function printKeyGenerated(io: Output, key: KeyGenerated): void {
  io.out(`key ${key.keyId} written to ${key.path}\n`);
  io.err(
    key.config
      ? `use it with "hmacKey: ${key.reference}" in ${relative(process.cwd(), key.config) || key.config} (its paths are relative to its folder)\n`
      : `use it with "hmacKey: ${key.reference}" in a registre.yaml in this folder (no configuration found; its paths are relative to its folder: give --config to name it)\n`,
  );
}

export function printKeyRotated(io: Output, r: KeyRotated): void {
  io.out(`audit log of ${r.entries} entries moved from key ${r.from} to key ${r.to}\n`);
  for (const list of r.suppressionLists)
    io.out(
      list.entries === null
        ? `suppression list of store ${list.store}: could not be read to count its entries; they were all hashed with the old key\n`
        : `suppression list of store ${list.store}: ${list.entries} ${list.entries === 1 ? 'entry' : 'entries'} hashed with the old key${list.newest ? ` (the newest added ${list.newest})` : ''}\n`,
    );
  io.err('the configuration now names the new key in hmacKey and keeps the old one in previousKeys\n');
  if (r.suppressionLists.length)
    io.err(
      "the suppression list keeps the old hashes (registre has no address to hash again): every look-up (suppression check and filter, the sweep, erasures, objections) also hashes with the keys in previousKeys, and an entry is re-keyed when its address is added again; keep the old key in previousKeys until the last entry hashed with it has expired under the list's retention rule\n",
    );
}
