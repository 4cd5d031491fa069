/**
 * The layers, as rules (`npm run lint`): cli → core → adapters (swarm, db, config, runtime) → base,
 * and inside core each concept only uses the ones below it. See README "Layout".
 */
const adapters = '^src/(swarm|db|config|runtime|http)/';
module.exports = {
  forbidden: [
    { name: 'no-circular', comment: 'a cycle makes two files one unit', severity: 'error', from: {}, to: { circular: true } },
    { name: 'base-is-the-floor', comment: 'base/ imports nothing of faasctl', severity: 'error', from: { path: '^src/base/' }, to: { path: '^src/(cli|core|swarm|db|config|runtime|http)/' } },
    { name: 'adapters-below-core', comment: 'adapters never import core or cli', severity: 'error', from: { path: adapters }, to: { path: '^src/(core|cli)/' } },
    { name: 'core-below-cli', severity: 'error', from: { path: '^src/core/' }, to: { path: '^src/cli/' } },
    // Core's concepts, lowest first: users; functions and the request log; invocations; the dispatcher; schedules; deletes; platform and monitoring.
    { name: 'users-at-the-bottom', severity: 'error', from: { path: '^src/core/users/' }, to: { path: '^src/core/(functions|requests|invocations|dispatch|schedules|deletes|platform|monitoring)/' } },
    { name: 'functions-below-invocations', severity: 'error', from: { path: '^src/core/functions/' }, to: { path: '^src/core/(requests|invocations|dispatch|schedules|deletes|platform|monitoring)/' } },
    { name: 'requests-below-invocations', severity: 'error', from: { path: '^src/core/requests/' }, to: { path: '^src/core/(functions|invocations|dispatch|schedules|deletes|platform|monitoring)/' } },
    { name: 'invocations-below-dispatch', severity: 'error', from: { path: '^src/core/invocations/' }, to: { path: '^src/core/(dispatch|schedules|deletes|platform|monitoring)/' } },
    { name: 'dispatch-below-schedules', severity: 'error', from: { path: '^src/core/dispatch/' }, to: { path: '^src/core/(schedules|deletes|platform|monitoring)/' } },
    { name: 'schedules-below-deletes', severity: 'error', from: { path: '^src/core/schedules/' }, to: { path: '^src/core/(deletes|platform|monitoring)/' } },
    { name: 'deletes-below-platform', severity: 'error', from: { path: '^src/core/deletes/' }, to: { path: '^src/core/(platform|monitoring)/' } },
    { name: 'platform-not-monitoring', severity: 'error', from: { path: '^src/core/platform/' }, to: { path: '^src/core/monitoring/' } },
    { name: 'monitoring-not-platform', severity: 'error', from: { path: '^src/core/monitoring/' }, to: { path: '^src/core/platform/' } },
    // The HTTP API (issue 25) sits on the dispatcher: it uses it and everything below; nothing below uses it.
    { name: 'api-above-dispatch', severity: 'error', from: { path: '^src/core/(users|functions|requests|invocations|dispatch|schedules|deletes)/' }, to: { path: '^src/core/api/' } },
    { name: 'no-orphans', severity: 'error', from: { orphan: true, pathNot: ['\\.d\\.ts$'] }, to: {} },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports count: a cycle of types is still a cycle of meaning.
    tsPreCompilationDeps: true,
  },
};
