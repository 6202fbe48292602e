import { extremum } from './common.js';

/** Elementwise minimum of any number of broadcasting inputs. */
export const Min = extremum('Min', Math.min);
