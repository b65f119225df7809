/** Dependencies point inward: core is pure, only cli and http are edges. */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'core-is-pure',
      comment: 'src/core imports nothing from adapters, cli, http or ui, and no node: I/O module',
      severity: 'error',
      from: { path: '^src/core' },
      to: {
        path: [
          '^src/(adapters|cli|http|ui)',
          '^(node:)?(fs|fs/promises|child_process|net|http|https|process)$',
        ],
      },
    },
    {
      name: 'adapters-not-edges',
      severity: 'error',
      from: { path: '^src/adapters' },
      to: { path: '^src/(cli|http|ui)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    exclude: { path: '\\.test\\.ts$' },
  },
};
