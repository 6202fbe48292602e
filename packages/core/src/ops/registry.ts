import type { OpDef } from './op-def.js';

const REGISTRY = new Map<string, OpDef>();

function key(opType: string, domain = ''): string {
  return domain ? `${domain}::${opType}` : opType;
}

export function registerOp(def: OpDef): void {
  const k = key(def.opType, def.domain);
  if (REGISTRY.has(k)) throw new Error(`operator ${def.opType} is registered twice`);
  REGISTRY.set(k, def);
}

export function lookupOp(opType: string, domain = ''): OpDef | undefined {
  return REGISTRY.get(key(opType, domain === 'ai.onnx' ? '' : domain));
}

export function registeredOps(): OpDef[] {
  return [...REGISTRY.values()];
}
