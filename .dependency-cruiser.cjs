/** Dependencies point inward: core is pure, adapters do I/O, app holds the use cases, cli and http are edges. */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'core-is-pure',
      comment: 'src/core imports nothing from adapters, cli, http, ui or service, and no node: I/O module',
      severity: 'error',
      from: { path: '^src/core' },
      to: {
        path: [
          '^src/(adapters|cli|http|ui|service)',
          '^(node:)?(fs|fs/promises|child_process|net|http|https|process)$',
        ],
      },
    },
    {
      name: 'edges-call-the-application',
      comment:
        'the CLI, the HTTP API, the console and the service (its scheduler) only parse, call src/app and print or serve: no adapter, so a use case is written once',
      severity: 'error',
      from: { path: '^src/(cli|http|ui|service)' },
      to: { path: '^src/adapters' },
    },
    {
      name: 'app-draws-nothing',
      comment:
        'a use case never prints: no progress bar nor command-line library in src/app (it reports progress through its context; the edges draw it)',
      severity: 'error',
      from: { path: '^src/app' },
      to: { path: 'node_modules/(cli-progress|commander)/' },
    },
    {
      name: 'app-not-edges',
      severity: 'error',
      from: { path: '^src/app' },
      to: { path: '^src/(cli|http|ui|service)' },
    },
    {
      name: 'adapters-not-edges',
      severity: 'error',
      from: { path: '^src/adapters' },
      to: { path: '^src/(app|cli|http|ui|service)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    exclude: { path: '\\.test\\.ts$' },
  },
};
