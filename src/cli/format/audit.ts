/** What audit verify, audit accept-head and status print. */
import type { AuditVerification, HeadAccepted, Status } from '../../app/audit.js';
import type { Output } from '../shared.js';

export function printAuditVerification(io: Output, { entries, problems, warnings }: AuditVerification): void {
  for (const w of warnings) io.err(`warning: ${w}\n`);
  for (const p of problems) io.out(`entry ${p.seq}: ${p.problem}: ${p.message}\n`);
  io.err(
    problems.length
      ? `audit log: ${problems.length} problem(s) in ${entries} entries\n`
      : `audit log: ${entries} entries, chain intact\n`,
  );
}

export function printHeadAccepted(io: Output, accepted: HeadAccepted): void {
  for (const p of accepted.problems) io.out(`accepted: ${p}\n`);
  io.err(
    `audit log: accepted as it is at entry ${accepted.seq} (${accepted.problems.length} problem(s) recorded in it); both checkpoints moved to it\n`,
  );
}

export function formatStatus(status: Status): string {
  const locks = status.locks.length
    ? status.locks
        .map((l) => {
          // A lock is named by what holds it: `sweep:shop`, `request:12`, `request:replay`.
          const [kind, of] = l.name.split(':');
          const what =
            kind === 'sweep'
              ? 'sweep'
              : kind === 'request'
                ? of === 'replay'
                  ? 'erasure replay'
                  : `run of request ${of}`
                : l.name;
          const next = kind === 'sweep' ? 'the next sweep' : 'the next run';
          return l.alive
            ? `${what} running: ${l.holder} since ${l.acquiredAt} (last heartbeat ${l.heartbeatAt})\n`
            : `${what} died: ${l.holder}, started ${l.acquiredAt}, silent since ${l.heartbeatAt}; ${next} takes over and finishes its work\n`;
        })
        .join('')
    : 'no sweep running\n';
  const runs = status.runs.map(
    (r) =>
      `run ${r.id} on ${r.at}: ${r.status}, started ${r.startedAt}${r.finishedAt ? `, finished ${r.finishedAt}` : ''}\n`,
  );
  return `${locks}${runs.join('')}${status.holds} hold(s) in force\n`;
}
