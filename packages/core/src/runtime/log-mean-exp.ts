/**
 * log (1/K) Σ_k exp(v_k) per example, accumulated one value at a time with a running maximum, so importance
 * log-weights can arrive in chunks and K can run to thousands without overflow or keeping them all.
 */
export class RunningLogMeanExp {
  private readonly max: Float64Array;
  /** Σ exp(v − max) per example. */
  private readonly sum: Float64Array;

  constructor(n: number) {
    this.max = new Float64Array(n).fill(Number.NEGATIVE_INFINITY);
    this.sum = new Float64Array(n);
  }

  add(i: number, v: number): void {
    if (v > this.max[i]) {
      this.sum[i] = this.sum[i] * Math.exp(this.max[i] - v) + 1;
      this.max[i] = v;
    } else this.sum[i] += Math.exp(v - this.max[i]);
  }

  /** log of the mean of the k values added for example i. */
  value(i: number, k: number): number {
    return this.max[i] + Math.log(this.sum[i]) - Math.log(k);
  }
}
