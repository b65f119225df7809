/** The JSON Schemas of the files registre reads, for editors. */
import { writeFileSync } from 'node:fs';
import { Option } from 'commander';
import type { Cli } from '../shared.js';

export function registerSchemaCommand({ program, io, setExit }: Cli): void {
  program
    .command('schema')
    .description('print the JSON Schema of register, data map or configuration files (for editors)')
    .addOption(
      new Option('--kind <kind>', 'which file')
        .choices(['register', 'datamap', 'config'])
        .default('register'),
    )
    .option('--out <file>', 'write it to a file')
    .action(async (opts: { kind: 'register' | 'datamap' | 'config'; out?: string }) => {
      const { jsonSchemaOf, registerJsonSchema } = await import('../../core/register/register-schema.js');
      const { DataMapFile } = await import('../../core/datamap/datamap-schema.js');
      const { ConfigFile } = await import('../../core/config.js');
      const schema =
        opts.kind === 'register'
          ? registerJsonSchema()
          : opts.kind === 'datamap'
            ? jsonSchemaOf(
                DataMapFile,
                'datamap',
                "The binding of a register's records to the tables of real databases.",
              )
            : jsonSchemaOf(
                ConfigFile,
                'config',
                'The registre configuration: register, data map, stores, files, state.',
              );
      const text = `${JSON.stringify(schema, null, 2)}\n`;
      if (opts.out) writeFileSync(opts.out, text);
      else io.out(text);
      setExit(0);
    });
}
