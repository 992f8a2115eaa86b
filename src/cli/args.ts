/**
 * Command-line options on top of Node's `util.parseArgs`: `--name value`, `--name=value`,
 * `--flag`, and positionals. Node splits the arguments into tokens; here each token is checked
 * against the command's options, so an unknown option is an error that suggests the nearest
 * known one and lists them all, and a typo never silently falls back to a default.
 */
import { parseArgs as parseTokens } from 'node:util';
import { nearestName } from '../util/strict-keys.js';

export interface OptionSpec {
  /** 'string' takes a value; 'boolean' is a flag. */
  type: 'string' | 'boolean';
  description: string;
  /**
   * A flag that may carry a value: `--name=value` always, and `--name value` when the next
   * argument matches this pattern (so `--json out.json` names a file, `--json photo.jpg` does not).
   */
  optionalValue?: RegExp;
}

export interface ParsedArgs {
  positionals: string[];
  options: Record<string, string | boolean | undefined>;
}

export function parseArgs(argv: readonly string[], spec: Record<string, OptionSpec>, command: string): ParsedArgs {
  // strict: false lets every token through, so the messages below are ours; a flag is declared
  // boolean to Node, which then leaves a following argument as a positional token for optionalValue
  const { tokens } = parseTokens({
    args: [...argv],
    strict: false,
    allowPositionals: true,
    tokens: true,
    options: Object.fromEntries(Object.entries(spec).map(([name, { type }]) => [name, { type }])),
  });
  const positionals: string[] = [];
  const options: ParsedArgs['options'] = {};
  for (let t = 0; t < tokens.length; t++) {
    const token = tokens[t];
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    if (token.kind === 'option-terminator') continue;
    const { name, rawName, value, inlineValue } = token;
    const option = Object.hasOwn(spec, name) && rawName.startsWith('--') ? spec[name] : undefined;
    if (!option) {
      const near = rawName.startsWith('--') ? nearestName(name, Object.keys(spec)) : undefined;
      throw new Error(
        `${command}: unknown option ${rawName}${near ? ` (did you mean --${near}?)` : ''}` +
          `; options: ${Object.keys(spec)
            .map((k) => `--${k}`)
            .join(', ')}`,
      );
    }
    if (option.type === 'boolean') {
      const next = tokens[t + 1];
      if (
        !option.optionalValue ||
        (value === undefined && !(next?.kind === 'positional' && option.optionalValue.test(next.value)))
      ) {
        if (value !== undefined) throw new Error(`${command}: --${name} is a flag and takes no value (got '${value}')`);
        options[name] = true;
      } else if (value !== undefined) {
        if (value === '') throw new Error(`${command}: --${name}= needs a value after '=' (${option.description})`);
        options[name] = value;
      } else {
        options[name] = (next as { value: string }).value;
        t++;
      }
      continue;
    }
    // Node takes the next argument as the value even when it is another option: that is a missing value
    if (value === undefined || (!inlineValue && value.startsWith('--'))) {
      throw new Error(`${command}: --${name} needs a value (${option.description})`);
    }
    options[name] = value;
  }
  return { positionals, options };
}

/** A numeric option: undefined when absent, a RangeError naming the option when not a number in range. */
export function numberOption(
  options: ParsedArgs['options'],
  name: string,
  min = -Infinity,
  max = Infinity,
): number | undefined {
  const raw = options[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
    throw new RangeError(`--${name} is '${String(raw)}'; it must be a number in [${min}, ${max}]`);
  }
  return value;
}

/** An integer option: numberOption's checks, and a RangeError naming the option when it is not whole. */
export function integerOption(
  options: ParsedArgs['options'],
  name: string,
  min = -Infinity,
  max = Infinity,
): number | undefined {
  const value = numberOption(options, name, min, max);
  if (value !== undefined && !Number.isInteger(value))
    throw new RangeError(`--${name} is ${value}; it must be an integer`);
  return value;
}

/** Usage lines for a command's options. */
export function describeOptions(spec: Record<string, OptionSpec>): string {
  return Object.entries(spec)
    .map(
      ([name, o]) =>
        `  --${name}${o.type === 'string' ? ' <value>' : o.optionalValue ? ' [file]' : ''}`.padEnd(28) + o.description,
    )
    .join('\n');
}
