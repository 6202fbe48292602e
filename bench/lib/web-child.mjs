#!/usr/bin/env node
/**
 * bench/lib/web-child.mjs: the onnxruntime-web (wasm) rows in a process of their own, since onnxruntime-web reads
 * env.wasm.numThreads once, when its wasm module starts: one process per thread count. bench/run.mjs spawns it:
 *
 *   node bench/lib/web-child.mjs '{"threads": 2, "quick": false}'
 *
 * and reads ONE JSON object from its stdout: the threads asked for and those in force (onnxruntime-web falls back to
 * 1 where wasm threads are unsupported; in Node they run on worker_threads), the reference model's ms per step and
 * the decoder's median latency on 64 codes. Progress and onnxruntime-web's warnings go to stderr.
 */
import * as ort from 'onnxruntime-web';
import { REFERENCE_VAE } from '../../packages/core/dist/index.js';
import { progress, settings } from './common.mjs';
import { decodeRow, trainRow } from './onnx.mjs';

const opts = JSON.parse(process.argv[2] ?? '{}');
const threads = opts.threads ?? 1;
const s = settings(!!opts.quick);
ort.env.wasm.numThreads = threads;
// Anything onnxruntime-web prints goes to stderr: stdout is for the result.
console.log = console.error;

progress(`onnxruntime-web wasm, ${threads} thread(s): train step`);
const train = await trainRow(ort, REFERENCE_VAE, s, { batch: 128, warmup: s.webWarmup });
progress(`onnxruntime-web wasm, ${threads} thread(s): decoder, 64 samples`);
const decode = await decodeRow(ort, REFERENCE_VAE, s.calls, { warmup: s.webWarmup });
process.stdout.write(`${JSON.stringify({ threadsAsked: threads, threads: ort.env.wasm.numThreads, train, decode64Ms: decode.ms })}\n`);
