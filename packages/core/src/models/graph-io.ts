/**
 * What every graph builder shares about its inputs and outputs: the batch dimension's name, the family's extra
 * inputs, and the name of an updated tensor among a train step's outputs. Its own module so that the builders of
 * graphs.ts and the inference modes it dispatches to (per-datapoint-training.ts, semi-amortized.ts) import it
 * without importing each other.
 */
import type { Graph } from '../ir/graph.js';
import type { VaeConfig } from './config.js';
import type { Conditions, LatentFamily } from './families/index.js';

export const BATCH = 'batch';

/** The family's extra per-example inputs (e.g. y [batch, C]) as graph inputs, with leading dims `lead` (fused steps). */
export function familyInputs(g: Graph, cfg: VaeConfig, family: LatentFamily, lead: number[] = []): Conditions {
  return Object.fromEntries(family.inputs.map((i) => [i.name, g.input(i.name, cfg.dtype, [...lead, BATCH, i.width])]));
}

/** Name of the updated copy of a parameter or state tensor among the train step's outputs. */
export function updatedName(name: string): string {
  return `${name}_new`;
}
