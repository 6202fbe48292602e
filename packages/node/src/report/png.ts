/**
 * The report pictures' former single module, now split by concern: the PNG encoder (png-codec.ts, over fast-png),
 * the SVG line charts (line-chart-svg.ts) and bar chart (bar-chart-svg.ts), rendered to PNG by sharp; image grids are
 * tiled by core's tileImages (report.ts imageGrid). Kept so that existing imports of './report/png.js' keep working;
 * new code imports the module it needs.
 */
export * from './bar-chart-svg.js';
export * from './line-chart-svg.js';
export * from './png-codec.js';
