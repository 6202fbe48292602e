/**
 * The operator registry: op type → definition. Op definitions are registered by ops/builder.ts (from the list in
 * ops/index.ts); the IR looks up their schemas by op type when it adds a node, autodiff their gradient rules, the op
 * suite their references and cases. Nothing here imports an op.
 */
import { type AttrSpec, attrDefault, attrType, opKey, registerOpSchema } from './graph.js';
import type { OpDef } from './op-schema.js';

const REGISTRY = new Map<string, OpDef>();

/** Throws when a schema default does not have its attribute's type (a default of 0.5 for an int, say). */
function checkDefault(def: OpDef, name: string, spec: AttrSpec): void {
  const d = attrDefault(spec);
  if (d === undefined) return;
  const t = attrType(spec);
  const ok =
    t === 'int'
      ? Number.isInteger(d)
      : t === 'float'
        ? typeof d === 'number'
        : t === 'string'
          ? typeof d === 'string'
          : t === 'ints'
            ? Array.isArray(d) && d.every((e) => Number.isInteger(e))
            : t === 'floats'
              ? Array.isArray(d) && d.every((e) => typeof e === 'number')
              : t === 'strings' && Array.isArray(d) && d.every((e) => typeof e === 'string');
  if (!ok) throw new Error(`operator ${def.opType}: the default ${JSON.stringify(d)} of attribute '${name}' is not a ${t}`);
}

export function registerOp(def: OpDef): void {
  const k = opKey(def.opType, def.domain);
  if (REGISTRY.has(k)) throw new Error(`operator ${def.opType} is registered twice`);
  for (const [name, spec] of Object.entries(def.attrs ?? {})) checkDefault(def, name, spec);
  REGISTRY.set(k, def);
  registerOpSchema(def);
}

export function lookupOp(opType: string, domain = ''): OpDef | undefined {
  return REGISTRY.get(opKey(opType, domain));
}

export function registeredOps(): OpDef[] {
  return [...REGISTRY.values()];
}
