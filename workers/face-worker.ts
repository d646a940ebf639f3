import { workerData } from 'piscina';
import sharp from 'sharp';
import { FaceAnalyser } from '../src/face/face-analyser.js';
import type { AnalyseResult, EngineInfo, FaceTask, FaceWorkerData, FramesResult } from '../src/domain/face/face-types.js';

/**
 * Piscina worker for face analysis. The models load once, when the thread starts (Piscina
 * awaits this module before giving it tasks), and are warmed with a dummy inference.
 */

// The pool is the parallelism: one libvips thread per worker keeps two workers from fighting
// over two cores, and each image is decoded once, so libvips' operation cache only holds memory.
sharp.concurrency(1);
sharp.cache(false);

const data = workerData as FaceWorkerData;
const analyser = await FaceAnalyser.create(data.settings, data.embedder);

export default async function handleFaceTask(task: FaceTask): Promise<AnalyseResult | FramesResult | EngineInfo> {
  switch (task.kind) {
    case 'analyse':
      return analyser.analyse(task.image, task.mode);
    case 'frames':
      return analyser.frames(task.frames);
    case 'info':
      return analyser.info();
    case 'crash':
      if (!data.allowCrashTask) throw new Error('the crash task is disabled');
      // Ends this thread the way a native fault would: no reply, the pool must replace it.
      return process.exit(70);
    case 'hang':
      if (!data.allowCrashTask) throw new Error('the hang task is disabled');
      // Blocks this thread's event loop as a stuck native call would: only terminating it ends this.
      for (;;);
  }
}
