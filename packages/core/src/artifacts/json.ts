/**
 * JSON from files and the network (manifests, safetensors headers, config files) is untrusted. `JSON.parse` alone
 * accepts what later code cannot handle: `[[[[…]]]]` a million deep parses fine but overflows the stack of every
 * recursive walk after it (validation, `JSON.stringify` in an error message), and a repeated key silently keeps the
 * last value (`{"w": A, "w": B}`), so two readers of one file can disagree on what it holds. `parseUntrustedJson`
 * scans the text first (one pass, no recursion) and refuses both.
 *
 * @example
 * const m = parseUntrustedJson(text, (why) => { throw new BundleError(`manifest.json: ${why}`); });
 */

/**
 * Nesting a reader of ours accepts. The deepest structure any of our files holds is 4 levels (a manifest's
 * graphs → train_step → inputs → entry → shape); 64 leaves room for other producers while staying far below the
 * depth (~10,000 frames) at which a recursive walk overflows V8's default stack.
 */
export const MAX_JSON_DEPTH = 64;

/** Checks nesting depth and duplicate keys, then parses; `fail` receives what is wrong (without the file name). */
export function parseUntrustedJson(text: string, fail: (why: string) => never, maxDepth = MAX_JSON_DEPTH): unknown {
  scanJson(text, fail, maxDepth);
  try {
    return JSON.parse(text);
  } catch (e) {
    return fail(`not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
}

interface Frame {
  /** Keys seen so far in an object; undefined for an array. */
  keys: Set<string> | undefined;
  /** In an object, whether the next string is a key. */
  expectKey: boolean;
}

/**
 * One pass over the text: depth of `{`/`[` and, in each object, its keys. Not a validator: malformed text is left
 * to JSON.parse, which reports it with a position.
 */
function scanJson(text: string, fail: (why: string) => never, maxDepth: number): void {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        top.expectKey = false;
        let key: string;
        try {
          key = JSON.parse(text.slice(start, i + 1)) as string;
        } catch {
          return; // a malformed string: JSON.parse below says where
        }
        if (top.keys.has(key)) {
          fail(`duplicate key ${JSON.stringify(key.slice(0, 100))} at character ${start} (JSON keeps only the last; remove one)`);
        }
        top.keys.add(key);
      }
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length >= maxDepth) fail(`nesting deeper than ${maxDepth} levels at character ${i}`);
      stack.push({ keys: c === 0x7b ? new Set() : undefined, expectKey: c === 0x7b });
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
    }
  }
}
