import type { Worker } from 'node:worker_threads';

interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; edge_fields: string[] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

/**
 * The most references any one object of a worker's heap holds to the string `text` (an array
 * that kept every checkpoint's mode holds one per checkpoint). Read from a heap snapshot of the
 * thread, which V8 takes after a full garbage collection: only what is still reachable counts.
 */
export async function mostReferencesTo(worker: Worker, text: string): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const chunk of await worker.getHeapSnapshot()) chunks.push(chunk as Buffer);
  const heap = JSON.parse(Buffer.concat(chunks).toString('utf8')) as HeapSnapshot;
  const { node_fields: nodeFields, edge_fields: edgeFields } = heap.snapshot.meta;
  const nameAt = nodeFields.indexOf('name');
  const edgeCountAt = nodeFields.indexOf('edge_count');
  const toNodeAt = edgeFields.indexOf('to_node');
  let most = 0;
  let edge = 0;
  for (let node = 0; node < heap.nodes.length; node += nodeFields.length) {
    const count = heap.nodes[node + edgeCountAt]!;
    let found = 0;
    for (let e = 0; e < count; e += 1, edge += edgeFields.length) {
      // to_node is the index of the target's first field in `nodes`.
      const target = heap.edges[edge + toNodeAt]!;
      if (heap.strings[heap.nodes[target + nameAt]!] === text) found += 1;
    }
    most = Math.max(most, found);
  }
  return most;
}
