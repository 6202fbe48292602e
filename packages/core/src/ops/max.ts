import { extremum } from './common.js';

/** Elementwise maximum of any number of broadcasting inputs. */
export const Max = extremum('Max', Math.max);
