/**
 * How messages look in JavaScript: @grpc/proto-loader's conversion options, with
 * the same names and meanings, but defaults chosen so nothing is lost silently.
 */

/** The options that shape decoded objects (and which input forms are expected). */
export interface MessageOptions {
  /** Keep field names as written in the .proto file (snake_case); default false: lowerCamelCase. */
  keepCase?: boolean;
  /** 64-bit integers decode as: String (default, exact), BigInt (exact), or Number (loses precision above 2^53). */
  longs?: typeof String | typeof Number | typeof BigInt;
  /** Enums decode as: String, the value's name (default; unknown numbers stay numbers), or Number. */
  enums?: typeof String | typeof Number;
  /** bytes decode as: Buffer (default), String (base64) or Array (of numbers). */
  bytes?: typeof Buffer | typeof String | typeof Array;
  /** Unset fields decode as their default value (default true); message fields then read as null. */
  defaults?: boolean;
  /** Unset repeated fields decode as [] even when `defaults` is off. */
  arrays?: boolean;
  /** Unset map fields decode as {} even when `defaults` is off. */
  objects?: boolean;
  /** Each oneof gets a virtual property naming the member that is set (default true). */
  oneofs?: boolean;
  /** JSON-friendly forms: NaN/Infinity as strings, Any expanded to { '@type': url, ...fields } (default false). */
  json?: boolean;
}

/** Options that only affect parsing .proto text (passed to protobufjs). */
export interface ParseOptions {
  /** Recognise /* *\/ and // comments as doc comments too (protobufjs alternateCommentMode). */
  alternateCommentMode?: boolean;
  /** Prefer a trailing comment over a leading one as a field's doc comment. */
  preferTrailingComment?: boolean;
}

/** Fully resolved options: what every converter reads. */
export interface ResolvedMessageOptions {
  /** See MessageOptions.keepCase. */
  keepCase: boolean;
  /** See MessageOptions.longs. */
  longs: typeof String | typeof Number | typeof BigInt;
  /** See MessageOptions.enums. */
  enums: typeof String | typeof Number;
  /** See MessageOptions.bytes. */
  bytes: typeof Buffer | typeof String | typeof Array;
  /** See MessageOptions.defaults. */
  defaults: boolean;
  /** See MessageOptions.arrays. */
  arrays: boolean;
  /** See MessageOptions.objects. */
  objects: boolean;
  /** See MessageOptions.oneofs. */
  oneofs: boolean;
  /** See MessageOptions.json. */
  json: boolean;
}

/** The message options in effect when none are given: exact longs as strings, enum names, Buffers, defaults and oneof names on. */
export const DEFAULT_MESSAGE_OPTIONS: Readonly<ResolvedMessageOptions> = Object.freeze({
  keepCase: false,
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  arrays: false,
  objects: false,
  oneofs: true,
  json: false,
});

const BOOLEAN_OPTIONS = ['keepCase', 'defaults', 'arrays', 'objects', 'oneofs', 'json'] as const;

const CHOICES = {
  longs: [[String, 'String'], [Number, 'Number'], [BigInt, 'BigInt']],
  enums: [[String, 'String'], [Number, 'Number']],
  bytes: [[Buffer, 'Buffer'], [String, 'String'], [Array, 'Array']],
} as const;

const HINTS: Record<string, string> = {
  longs: ' (Long objects are not offered: use String or BigInt for exact values)',
};

/**
 * Fills in the defaults and rejects what we would otherwise ignore: an unknown
 * option name (beyond `allowedExtra`) or a value we do not support is an error.
 */
export function resolveMessageOptions(
  options: Record<string, unknown> = {},
  allowedExtra: readonly string[] = [],
): ResolvedMessageOptions {
  const resolved: ResolvedMessageOptions = { ...DEFAULT_MESSAGE_OPTIONS };
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if ((BOOLEAN_OPTIONS as readonly string[]).includes(key)) {
      if (typeof value !== 'boolean') throw new TypeError(`option ${key} must be true or false, got ${String(value)}`);
      (resolved as unknown as Record<string, unknown>)[key] = value;
    } else if (key in CHOICES) {
      const choices = CHOICES[key as keyof typeof CHOICES] as readonly (readonly [unknown, string])[];
      const match = choices.find(([ctor]) => ctor === value);
      if (!match) {
        const names = choices.map(([, name]) => name).join(', ');
        throw new TypeError(`option ${key} must be one of ${names}${HINTS[key] ?? ''}`);
      }
      (resolved as unknown as Record<string, unknown>)[key] = value;
    } else if (!allowedExtra.includes(key)) {
      throw new TypeError(`unknown option ${key}`);
    }
  }
  return resolved;
}
