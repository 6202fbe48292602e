/**
 * Untrusted JSON (issue 9, item 9): nesting and repeated keys are refused before parsing, in safetensors headers
 * too, always with the reader's own error naming the file, never "Maximum call stack size exceeded".
 */
import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, parseUntrustedJson } from './json.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from './safetensors.js';

const fail = (why: string): never => {
  throw new Error(`f.json: ${why}`);
};

/** A safetensors file with this header text and data (the length field set to match). */
function withHeader(header: string, data: number[] = []): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('parseUntrustedJson', () => {
  it('parses what JSON.parse parses, up to the depth cap', () => {
    const text = '{"a": [1, {"b": "x\\"y", "c": null}], "d": {"e": {}}}';
    expect(parseUntrustedJson(text, fail)).toEqual(JSON.parse(text));
    const atCap = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
    expect(parseUntrustedJson(atCap, fail)).toBeInstanceOf(Array);
  });

  it('refuses nesting past the cap, even when JSON.parse would take it', () => {
    const deep = '['.repeat(1e6) + ']'.repeat(1e6); // JSON.parse accepts this; JSON.stringify of it overflows
    expect(() => parseUntrustedJson(deep, fail)).toThrow(/^f\.json: nesting deeper than 64 levels at character 64$/);
    expect(() => parseUntrustedJson('['.repeat(1e6), fail)).toThrow(/nesting deeper than 64/);
  });

  it('refuses a repeated key at any depth, escapes decoded; strings with brackets are not nesting', () => {
    expect(() => parseUntrustedJson('{"a": 1, "a": 2}', fail)).toThrow(/^f\.json: duplicate key "a" at character 9/);
    expect(() => parseUntrustedJson('{"x": {"a": 1, "\\u0061": 2}}', fail)).toThrow(/duplicate key "a"/);
    expect(parseUntrustedJson('{"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]}', fail)).toBeTruthy(); // same key, different objects
    expect(parseUntrustedJson(`{"s": "${'['.repeat(200)}", "t": "a,\\"a\\":"}`, fail)).toBeTruthy();
  });

  it('hands syntax errors to JSON.parse', () => {
    expect(() => parseUntrustedJson('{"a": ', fail)).toThrow(/^f\.json: not valid JSON \(/);
  });
});

describe('safetensors headers', () => {
  it('a duplicate tensor name is refused (JSON.parse would keep the second silently)', () => {
    const t = '{"dtype":"U8","shape":[1],"data_offsets":[0,1]}';
    const bytes = withHeader(`{"w":${t},"w":${t}}`, [7]);
    expect(() => decodeSafetensors(bytes, 'run/ck.safetensors')).toThrow(SafetensorsError);
    expect(() => decodeSafetensors(bytes, 'run/ck.safetensors')).toThrow(/^run\/ck\.safetensors: header: duplicate key "w"/);
  });

  it('deep nesting is an error naming the file', () => {
    const bytes = withHeader(`{"w":{"dtype":"U8","shape":${'['.repeat(1e5)}${']'.repeat(1e5)},"data_offsets":[0,1]}}`, [7]);
    expect(() => decodeSafetensors(bytes, 'run/ck.safetensors')).toThrow(/^run\/ck\.safetensors: header: nesting deeper than 64 levels/);
  });

  it('every decoding error is a SafetensorsError; values quoted in messages are cut short', () => {
    const good = encodeSafetensors({ w: { dtype: 'float32', shape: [1], data: new Float32Array(1) } });
    expect(() => decodeSafetensors(good.subarray(0, 4), 'x')).toThrow(SafetensorsError);
    const longShape = withHeader(`{"w":{"dtype":"U8","shape":[${'1,'.repeat(100_000)}-1],"data_offsets":[0,1]}}`, [7]);
    let msg = '';
    try {
      decodeSafetensors(longShape, 'x');
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/^x: tensor "w": invalid shape \[1,1,/);
    expect(msg.length).toBeLessThan(300); // the quoted shape is cut at 100 characters
  });
});
