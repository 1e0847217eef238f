import { DecoratorKeyError, InvalidOptionError, describe } from '../errors';

/**
 * How a cache decorator names its key: a template such as `'user:{0}'`, `'user:{id}'` or
 * `'chat:{dto.chatId}:{1}'`, or a function of the method's arguments.
 *
 * Template placeholders, between braces:
 * - `{0}`, `{1}`, ...: the argument at that position;
 * - `{name}`: the parameter called `name` (read from the method's compiled source, so it
 *   needs parameter names kept: TypeScript keeps them, a minifier may not);
 * - either followed by a property path, `{0.id}` or `{dto.user.id}`.
 * A placeholder takes a non-empty string, a finite number, a bigint or a boolean; anything
 * else is a `DecoratorKeyError` at call time. Braces cannot appear literally: use a function.
 */
export type CacheKey<A extends any[] = any[]> = string | ((...args: A) => string);

/** Where a key is resolved, for messages: `'UserService.findUser'` and `'@Cacheable'`. */
export interface KeySite {
  method: string;
  decorator: string;
  /** The decorated function, whose parameter names `{name}` placeholders refer to. */
  fn: AnyFunction;
}

/** Any function: what a method decorator is handed. */
export type AnyFunction = (...args: any[]) => unknown;

/** Turns the method's arguments into a key; throws `DecoratorKeyError` on a bad one. */
export type KeyResolver = (args: unknown[]) => string;

interface Placeholder {
  text: string;
  index: number;
  path: string[];
}

const PLACEHOLDER = /\{([^{}]*)\}/g;
const REFERENCE = /^(\d+|[A-Za-z_$][\w$]*)((?:\.[\w$]+)*)$/;

/**
 * Compiles a key option once, when the class is defined, into a resolver that runs on
 * every call.
 *
 * @throws InvalidOptionError for a malformed template or an unknown parameter name
 */
export function compileKey(key: unknown, site: KeySite): KeyResolver {
  if (typeof key === 'function') return fromFunction(key as (...args: unknown[]) => unknown, site);
  if (typeof key !== 'string' || key === '') {
    throw new InvalidOptionError(
      `key of ${site.decorator} on ${site.method}`,
      `expected a template such as 'user:{0}' or a function of the arguments, got ${describe(key)}`,
    );
  }
  return fromTemplate(key, site);
}

function fromFunction(fn: (...args: unknown[]) => unknown, site: KeySite): KeyResolver {
  return (args) => {
    const key = fn(...args);
    if (typeof key === 'string' && key !== '') return key;
    throw new DecoratorKeyError(
      site.method,
      site.decorator,
      key,
      'the key function must return a non-empty string',
    );
  };
}

function fromTemplate(template: string, site: KeySite): KeyResolver {
  const literals: string[] = [];
  const holes: Placeholder[] = [];
  let last = 0;
  for (const match of template.matchAll(PLACEHOLDER)) {
    literals.push(literalOf(template.slice(last, match.index), template, site));
    holes.push(placeholderOf(match[1], template, site));
    last = match.index + match[0].length;
  }
  literals.push(literalOf(template.slice(last), template, site));

  if (holes.length === 0) return () => template;
  if (holes.length === 1 && holes[0].path.length === 0) {
    const [head, tail] = literals;
    const { index } = holes[0];
    return (args) => head + text(args[index], holes[0], site) + tail;
  }
  return (args) => {
    let key = literals[0];
    for (let i = 0; i < holes.length; i++) {
      key += text(valueAt(args, holes[i]), holes[i], site) + literals[i + 1];
    }
    return key;
  };
}

function literalOf(literal: string, template: string, site: KeySite): string {
  if (literal.includes('{') || literal.includes('}')) {
    throw new InvalidOptionError(
      `key of ${site.decorator} on ${site.method}`,
      `unbalanced brace in template "${template}"; braces only enclose placeholders`,
    );
  }
  return literal;
}

function placeholderOf(reference: string, template: string, site: KeySite): Placeholder {
  const match = REFERENCE.exec(reference.trim());
  const option = `key of ${site.decorator} on ${site.method}`;
  if (match === null) {
    throw new InvalidOptionError(
      option,
      `placeholder {${reference}} in "${template}" is not a position ({0}), a parameter ` +
        'name ({id}) or either followed by a property path ({0.id})',
    );
  }

  const path = match[2] === '' ? [] : match[2].slice(1).split('.');
  if (/^\d+$/.test(match[1])) return { text: reference, index: Number(match[1]), path };

  const names = parameterNames(site.fn);
  const index = names.indexOf(match[1]);
  if (index < 0) {
    const known = names.filter((name) => name !== undefined).join(', ') || 'none';
    throw new InvalidOptionError(
      option,
      `placeholder {${reference}} names no parameter of the method (parameters: ${known}); ` +
        'use a position such as {0} or a key function',
    );
  }
  return { text: reference, index, path };
}

function valueAt(args: unknown[], hole: Placeholder): unknown {
  let value = args[hole.index];
  for (const step of hole.path) {
    if (value === null || value === undefined) return value;
    value = (value as Record<string, unknown>)[step];
  }
  return value;
}

function text(value: unknown, hole: Placeholder, site: KeySite): string {
  switch (typeof value) {
    case 'string':
      if (value !== '') return value;
      break;
    case 'number':
      if (Number.isFinite(value)) return String(value);
      break;
    case 'bigint':
    case 'boolean':
      return String(value);
  }
  throw new DecoratorKeyError(
    site.method,
    site.decorator,
    value,
    `placeholder {${hole.text}} needs a non-empty string, a finite number, a bigint or a boolean`,
  );
}

/**
 * The parameter names of a function, from its source: `undefined` for a destructured
 * parameter. Comments, strings and default values are skipped.
 */
export function parameterNames(fn: AnyFunction): (string | undefined)[] {
  const source = Function.prototype.toString.call(fn);
  const names: (string | undefined)[] = [];
  let depth = 0;
  let current = '';

  for (let i = source.indexOf('(') + 1; i > 0 && i < source.length; i++) {
    const c = source[i];
    if (c === '/' && (source[i + 1] === '*' || source[i + 1] === '/')) {
      const end = source[i + 1] === '*' ? source.indexOf('*/', i + 2) + 1 : source.indexOf('\n', i);
      if (end <= 0) break;
      i = end;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') {
      i = endOfString(source, i);
      continue;
    }
    if ('([{'.includes(c)) depth++;
    if (')]}'.includes(c) && depth-- === 0) {
      if (current.trim() !== '') names.push(nameOf(current));
      break;
    }
    if (c === ',' && depth === 0) {
      names.push(nameOf(current));
      current = '';
      continue;
    }
    current += c;
  }
  return names;
}

function endOfString(source: string, start: number): number {
  for (let i = start + 1; i < source.length; i++) {
    if (source[i] === '\\') i++;
    else if (source[i] === source[start]) return i;
  }
  return source.length;
}

function nameOf(parameter: string): string | undefined {
  const match = /^\s*(?:\.\.\.)?\s*([A-Za-z_$][\w$]*)\s*(?:=|$)/.exec(parameter);
  return match?.[1];
}
