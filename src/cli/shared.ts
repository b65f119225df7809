/** What every command module shares: where it prints, how it sets the exit code, the examples of `--help`. */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { Context, Engine, ProgressEvent } from '../app/engine.js';
import { field, fieldsAs, RegistreError } from '../core/errors.js';

export interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** What a capability's commands are registered with: the program (its --config), where to print, the exit code. */
export interface Cli {
  readonly program: Command;
  readonly io: Output;
  readonly setExit: (code: number) => void;
}

/** A result as the `--json` of a command prints it. */
export const jsonText = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** The default of a date option: today (UTC), as the program is built. */
export const today = () => new Date().toISOString().slice(0, 10);

/** The person running the command, as the audit log names them: `os:` and their account. */
export function cliActor(): string {
  try {
    return `os:${userInfo().username}`;
  } catch {
    return `os:uid-${process.getuid?.() ?? 'unknown'}`;
  }
}

/**
 * A number option as the use case takes it: a whole number when the text is one, else the text
 * itself, which the use case's schema refuses naming the option and quoting what was given.
 */
export function numeric(text: string | undefined): number | string | undefined {
  if (text === undefined) return undefined;
  return /^\d{1,15}$/.test(text) ? Number(text) : text;
}

/** An option's name as the command line writes it: `batchSize` is `--batch-size`. */
export const flagOf = (name: string): string =>
  `--${(name.split('.')[0] ?? name).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/**
 * Runs `f`; an input error that names a field the command's options spell otherwise names the
 * option instead (`{ purposes: 'purpose', 'notice.sha256': 'noticeSha256' }`: `--purpose`,
 * `--notice-sha256`). A field is matched whole, then by its first part (`purposes.0`).
 */
export async function withOptionNames<T>(
  names: Readonly<Record<string, string>>,
  f: () => Promise<T>,
): Promise<T> {
  try {
    return await f();
  } catch (error) {
    if (!(error instanceof RegistreError)) throw error;
    const rename = (name: string) => names[name] ?? names[name.split('.')[0] ?? name] ?? name;
    const renamed = new RegistreError(
      error.code,
      fieldsAs(error.message, (name) => field(rename(name))),
      {
        cause: error,
        ...(error.path ? { path: [rename(error.path.join('.'))] } : {}),
      },
    );
    throw renamed;
  }
}

/**
 * Runs a command's use cases on an engine built for it, with the caller's context: the actor of
 * the command line, a progress bar on a terminal (nothing when stderr is not one, or for `--json`),
 * and a first Ctrl-C that stops a long use case between two batches (a second one kills).
 */
export async function withEngine<T>(
  program: Command,
  f: (engine: Engine, ctx: Context) => Promise<T>,
  options: { progress?: boolean } = {},
): Promise<T> {
  const { createEngine } = await import('../app/engine.js');
  const engine = createEngine({ config: program.opts().config });
  const stop = new AbortController();
  const interrupt = () => {
    if (stop.signal.aborted) process.exit(130);
    process.stderr.write('stopping after the batch under way (Ctrl-C again to kill)\n');
    stop.abort(new Error('interrupted'));
  };
  const bar = options.progress && process.stderr.isTTY === true ? await progressBar() : null;
  process.on('SIGINT', interrupt);
  try {
    return await f(engine, {
      actor: cliActor(),
      signal: stop.signal,
      ...(bar ? { onProgress: bar.update } : {}),
    });
  } finally {
    process.off('SIGINT', interrupt);
    bar?.stop();
    await engine.close();
  }
}

/** A progress bar on stderr, one per phase, drawn by cli-progress. */
async function progressBar(): Promise<{ update: (e: ProgressEvent) => void; stop: () => void }> {
  const { default: cliProgress } = await import('cli-progress');
  let bar: InstanceType<typeof cliProgress.SingleBar> | null = null;
  let phase = '';
  return {
    update(e) {
      if (e.phase !== phase) {
        bar?.stop();
        phase = e.phase;
        bar = new cliProgress.SingleBar(
          {
            // A total of 0: not known before the work (an import's lines), only the count is drawn.
            format:
              e.total > 0
                ? `${e.phase} {bar} {percentage}% | {value}/{total} | {detail}`
                : `${e.phase}: {value} so far {detail}`,
            hideCursor: true,
            stream: process.stderr,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(e.total, e.done, { detail: e.detail ?? '' });
        return;
      }
      bar?.setTotal(e.total);
      bar?.update(e.done, { detail: e.detail ?? '' });
    },
    stop: () => bar?.stop(),
  };
}

/** A repeatable option's values, in order (`--set a=1 --set b=2`). */
export const collect = (value: string, previous: string[] = []) => [...previous, value];

/**
 * One example per command, printed by its `--help` and listed in the README (a test checks both).
 * Paths are relative to a folder made by `registre demo --out shop` (its configuration is
 * `shop/registre.yaml`).
 */
export const EXAMPLES: Readonly<Record<string, string>> = {
  validate: 'registre validate registers/negomarkets --strict',
  docs: 'registre docs --out out --lang en',
  'import-notice': 'registre import-notice notice.html --out draft.yaml',
  check: 'registre check --config shop/registre.yaml',
  plan: 'registre plan --config shop/registre.yaml --list web-visits --limit 20',
  forecast: 'registre forecast --config shop/registre.yaml --months 6',
  explain: 'registre explain --config shop/registre.yaml --table customers --id 5',
  sweep: 'registre sweep --config shop/registre.yaml --dry-run',
  'hold add': 'registre hold add --config shop/registre.yaml --table orders --id 12 --reason "case 2026-118"',
  'hold list': 'registre hold list --config shop/registre.yaml',
  'hold release': 'registre hold release --config shop/registre.yaml 1',
  'breach record':
    'registre breach record --config shop/registre.yaml --discovered 2026-12-05T09:30:00Z --kind confidentiality --record payments --category payment-card --what "payments backup exposed on a test server" --consequences "card fraud attempts" --measures "server closed, tokens revoked"',
  'breach list': 'registre breach list --config shop/registre.yaml',
  'breach show': 'registre breach show --config shop/registre.yaml 1 --letter fr',
  'breach decide':
    'registre breach decide --config shop/registre.yaml 1 --notify --at 2026-12-06T10:00:00Z --reference CNIL-2026-0042',
  'breach inform': 'registre breach inform --config shop/registre.yaml 1 --inform',
  'breach export': 'registre breach export --config shop/registre.yaml --format xlsx --out breaches.xlsx',
  'audit verify': 'registre audit verify --config shop/registre.yaml',
  'audit export': 'registre audit export --config shop/registre.yaml --out audit.jsonl',
  'audit accept-head':
    'registre audit accept-head --config shop/registre.yaml --reason "state store restored from the 2026-12-01 backup"',
  status: 'registre status --config shop/registre.yaml',
  'key generate': 'registre key generate --out .registre/hmac.key',
  'key rotate': 'registre key rotate --config shop/registre.yaml --to file:.registre/hmac-2027.key',
  archive: 'registre archive --config shop/registre.yaml --table customers --reason "tax audit 2026"',
  demo: 'registre demo --out shop --customers 1000',
  schema: 'registre schema --kind datamap --out datamap.schema.json',
  'request open':
    'registre request open --config shop/registre.yaml --type access --email jeanne@example.org',
  'request send-code': 'registre request send-code --config shop/registre.yaml 1',
  'request verify': 'registre request verify --config shop/registre.yaml 1 --code 123456',
  'request run': 'registre request run --config shop/registre.yaml 1 --out access-1',
  'request send-letters':
    'registre request send-letters --config shop/registre.yaml 4 --email jeanne@example.org',
  'request list': 'registre request list --config shop/registre.yaml --overdue',
  'request show': 'registre request show --config shop/registre.yaml 1',
  'request extend':
    'registre request extend --config shop/registre.yaml 1 --months 2 --reason "many records in the archive"',
  'request refuse':
    'registre request refuse --config shop/registre.yaml 1 --reason "manifestly unfounded: the same request every day"',
  'request restriction lift': 'registre request restriction lift --config shop/registre.yaml 3',
  'erasure replay': 'registre erasure replay --config shop/registre.yaml --dry-run',
  'suppression add':
    'registre suppression add --config shop/registre.yaml --email jeanne@example.org --reason unsubscribe',
  'suppression check': 'registre suppression check --config shop/registre.yaml --email jeanne@example.org',
  'suppression filter':
    'registre suppression filter --config shop/registre.yaml mailing.csv --out mailing-clean.csv',
  serve: 'registre serve --config shop/registre.yaml --port 8080',
  'token create': 'registre token create --config shop/registre.yaml site --scope operate',
  'token list': 'registre token list --config shop/registre.yaml',
  'token revoke': 'registre token revoke --config shop/registre.yaml site',
  'consent record':
    'registre consent record --config shop/registre.yaml --visitor v-8f3a --purpose audience-statistics --choice given --notice-version 3 --notice-file banner-3.txt --source banner',
  'consent import': 'registre consent import --config shop/registre.yaml consents.jsonl',
  'consent status': 'registre consent status --config shop/registre.yaml --email jeanne@example.org',
  'consent check':
    'registre consent check --config shop/registre.yaml --email jeanne@example.org --purpose newsletter-sending',
  'consent proof':
    'registre consent proof --config shop/registre.yaml --visitor v-8f3a --html proof-v-8f3a.html',
  'consent withdraw': 'registre consent withdraw --config shop/registre.yaml --email jeanne@example.org',
};

/** Every leaf command by its path ("hold add"), for the README check and the examples. */
export function leafCommands(command: Command, prefix = ''): { path: string; command: Command }[] {
  return command.commands.flatMap((c) => {
    const path = `${prefix}${c.name()}`;
    return c.commands.length ? leafCommands(c, `${path} `) : [{ path, command: c }];
  });
}
