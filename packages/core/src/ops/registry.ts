// The registry lives in the IR (ir/op-registry.ts); this re-export keeps test/ops-web.test.ts's import working.
export { lookupOp, registeredOps, registerOp } from '../ir/op-registry.js';
