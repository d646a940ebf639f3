/**
 * Node's own options the service runs with: `npm start`, `npm run start:prod` and the image's CMD
 * carry the same (test/unit/compose.test.ts checks they agree), and the benchmarks' nodes start
 * with them so that they measure what ships.
 *
 * `--max-semi-space-size=64`: at 5,000 check-ins/s V8's default young generation (16 MB semi-spaces)
 * scavenged ~820 times a minute and spent ~8 % of the run in those pauses; 64 MB cut that to ~200
 * and 1.9 s, and the acknowledgement's p99 by ~20 ms, for ~75 MB more RSS under load (the young
 * generation, held once per node, not per socket). docs/multi-node.md "V8's young generation".
 */
export const SERVICE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
