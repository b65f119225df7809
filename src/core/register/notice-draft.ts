/** A draft register imported from a privacy notice, as the YAML file the DPO reviews. */
import { stringify } from 'yaml';
import { RegistreError } from '../errors.js';
import type { RegisterFile } from './register-schema.js';

export interface NoticeDraft {
  /** The YAML, headed by where it came from and what to do next. */
  readonly text: string;
  readonly activities: number;
  readonly retention: number;
  /** Retention sentences left as todo: the importer could not read a duration in them. */
  readonly todos: number;
}

/**
 * The draft as YAML. `file`: the notice read, `format`: as what; `out`: where the draft is written
 * (undefined: standard output). Throws E_NOTICE_EMPTY when the notice held no activity.
 */
export function noticeDraftYaml(
  draft: RegisterFile,
  source: { file: string; format: string; out?: string | undefined },
): NoticeDraft {
  if (!draft.activities?.length)
    throw new RegistreError(
      'E_NOTICE_EMPTY',
      `${source.file} (read as ${source.format}) holds no table row with purposes: is it the privacy table?`,
    );
  const retention = draft.retention ?? [];
  return {
    text: `# Draft register imported from ${source.file} (${source.format}) by registre import-notice.\n# Review every TODO, then run: registre validate ${source.out ?? 'this-file.yaml'}\n${stringify(draft, { lineWidth: 0 })}`,
    activities: draft.activities.length,
    retention: retention.length,
    todos: retention.filter((r) => r.todo !== undefined).length,
  };
}
