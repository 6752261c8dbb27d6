/** One element of a document read by {@link readXml}: its name, its child elements, its text. */
export interface XmlElement {
  readonly name: string;
  readonly children: XmlElement[];
  /** The element's text, entities resolved; '' for an element with children. */
  text: string;
}

/** An element name without a namespace prefix. */
export const XML_NAME = /^[A-Za-z][A-Za-z0-9]*$/;
/** An XML declaration at the start of a document (s3rver writes a bare `<?xml?>`). */
export const XML_DECLARATION = /^\s*<\?xml(\s[^?<>]*)?\?>/;
const NAMED_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
/** The deepest nesting an S3 answer uses is a handful of levels. */
const MAX_DEPTH = 8;

/** Resolves the five XML entities and character references; undefined on anything else. */
export function unescapeText(text: string): string | undefined {
  if (!text.includes('&')) return text;
  let out = '';
  let at = 0;
  for (;;) {
    const amp = text.indexOf('&', at);
    if (amp === -1) return out + text.slice(at);
    const semi = text.indexOf(';', amp);
    if (semi === -1) return undefined;
    const name = text.slice(amp + 1, semi);
    let value: string | undefined = NAMED_ENTITIES[name];
    if (value === undefined && /^#[0-9]{1,7}$/.test(name)) value = codePoint(Number(name.slice(1)));
    else if (value === undefined && /^#x[0-9A-Fa-f]{1,6}$/.test(name)) value = codePoint(parseInt(name.slice(2), 16));
    if (value === undefined) return undefined;
    out += text.slice(at, amp) + value;
    at = semi + 1;
  }
}

function codePoint(cp: number): string | undefined {
  if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
  return String.fromCodePoint(cp);
}

/** An opening tag's parts (the text between `<` and `>`); undefined when its name is no plain XML name. */
export function openingTag(tag: string): { name: string; attributes: string; selfClosing: boolean } | undefined {
  const selfClosing = tag.endsWith('/');
  const inner = selfClosing ? tag.slice(0, -1) : tag;
  const space = inner.search(/\s/);
  const name = space === -1 ? inner : inner.slice(0, space);
  if (!XML_NAME.test(name)) return undefined; // also `<!…>`, `<?…?>` and `prefix:Name`
  return { name, attributes: space === -1 ? '' : inner.slice(space).trim(), selfClosing };
}

/**
 * Reads the plain XML S3 speaks: one root element (attributes allowed on it alone, e.g.
 * `xmlns`), nested elements holding either elements or text, the five entities and character
 * references. Anything else XML allows (comments, CDATA, processing instructions, DOCTYPE and
 * entities of its own, namespace prefixes, attributes below the root, text beside elements,
 * nesting deeper than a few levels) answers undefined.
 */
export function readXml(xml: string): XmlElement | undefined {
  let at = 0;
  if (xml.charCodeAt(0) === 0xfeff) at = 1;
  const declaration = XML_DECLARATION.exec(xml.slice(at, at + 256));
  if (declaration) at += declaration[0].length;
  let root: XmlElement | undefined;
  const stack: XmlElement[] = [];
  while (at < xml.length) {
    const lt = xml.indexOf('<', at);
    const text = xml.slice(at, lt === -1 ? xml.length : lt);
    const open = stack[stack.length - 1];
    if (lt === -1) {
      if (text.trim() !== '' || stack.length !== 0) return undefined;
      break;
    }
    const gt = xml.indexOf('>', lt);
    if (gt === -1) return undefined;
    const tag = xml.slice(lt + 1, gt);
    at = gt + 1;
    if (tag.startsWith('/')) {
      if (!open || tag.slice(1).trim() !== open.name) return undefined;
      stack.pop();
      if (open.children.length === 0) {
        const value = unescapeText(text);
        if (value === undefined) return undefined;
        open.text = value;
      } else if (text.trim() !== '') {
        return undefined;
      }
      continue;
    }
    if (text.trim() !== '') return undefined; // text before a child element, or outside the root
    const opening = openingTag(xml.slice(lt + 1, gt));
    if (!opening) return undefined;
    const { name, attributes, selfClosing } = opening;
    if (attributes !== '' && (stack.length !== 0 || attributes.includes('<'))) return undefined;
    const element: XmlElement = { name, children: [], text: '' };
    if (open) {
      open.children.push(element);
    } else {
      if (root) return undefined;
      root = element;
    }
    if (selfClosing) continue;
    if (stack.length >= MAX_DEPTH) return undefined;
    stack.push(element);
  }
  return stack.length === 0 ? root : undefined;
}

/** The one child element named `name`: undefined when absent, null when repeated. */
export function only(parent: XmlElement, name: string): XmlElement | undefined | null {
  let found: XmlElement | undefined;
  for (const child of parent.children) {
    if (child.name !== name) continue;
    if (found) return null;
    found = child;
  }
  return found;
}

/** The text of a leaf child; undefined when absent, null when repeated or not a leaf. */
export function leaf(parent: XmlElement, name: string): string | undefined | null {
  const element = only(parent, name);
  if (element === null) return null;
  if (element === undefined) return undefined;
  return element.children.length === 0 ? element.text : null;
}

/** A whole number of at most 16 digits (a size, a part number); undefined for anything else. */
export function wholeNumber(raw: string): number | undefined {
  if (!/^[0-9]{1,16}$/.test(raw)) return undefined;
  const value = Number(raw);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** A timestamp S3 writes (ISO 8601); undefined when it does not read as a date. */
export function timestamp(raw: string): Date | undefined {
  const date = new Date(raw);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** `true` or `false` as S3 writes them; undefined for anything else. */
export function flag(raw: string): boolean | undefined {
  return raw === 'true' ? true : raw === 'false' ? false : undefined;
}

/** Decodes a value sent with `encoding-type=url` (a `+` is a space; a literal `+` comes as `%2B`). */
export function urlDecoded(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * How a listing's keys, prefixes and markers read: URL-decoded when the answer says
 * `<EncodingType>url</EncodingType>`, as they are when it says nothing; undefined (refuse the
 * answer) for another or a repeated encoding.
 */
export function keyDecoder(root: XmlElement): ((value: string) => string | undefined) | undefined {
  const encoding = leaf(root, 'EncodingType');
  if (encoding === undefined) return (value) => value;
  if (encoding === null || encoding.toLowerCase() !== 'url') return undefined;
  return urlDecoded;
}
