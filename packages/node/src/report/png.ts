/**
 * The report pictures' former single module, now split by concern: the PNG encoder (png-codec.ts), raster drawing and
 * text (raster-text.ts), the bar chart (charts.ts), the SVG line charts (line-chart-svg.ts); image grids are tiled by core's tileImages (report.ts imageGrid).
 * Kept so that existing imports of './report/png.js' keep working; new code imports the module it needs.
 */
export * from './charts.js';
export * from './line-chart-svg.js';
export * from './png-codec.js';
export { formatTick, type Rgb, textWidth } from './raster-text.js';
