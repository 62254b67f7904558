// A walk thread (WalkThreads): runs each walk job it is sent and posts the part it found.
import { parentPort } from 'node:worker_threads';
import { type WalkJob, walkJob } from './walk.js';

parentPort?.on('message', (job: WalkJob) => parentPort?.postMessage(walkJob(job)));
