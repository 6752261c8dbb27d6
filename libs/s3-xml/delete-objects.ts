import { openingTag, unescapeText, XML_DECLARATION } from './read';

/** One entry of a DeleteObjects request body. */
export interface DeleteListEntry {
  readonly key: string;
  readonly versionId?: string;
}

/** S3's bound on the objects one DeleteObjects request may name. */
export const MAX_DELETE_OBJECTS = 1000;

/** Elements a DeleteObjects body may hold inside `<Object>`. */
const OBJECT_FIELDS = new Set(['Key', 'VersionId', 'ETag', 'LastModifiedTime', 'Size']);

/**
 * The objects a DeleteObjects body (`<Delete><Object><Key>…</Key><VersionId>…</VersionId></Object>
 * …<Quiet>…</Quiet></Delete>`) names, read strictly: a body using anything else XML allows
 * (comments, CDATA, processing instructions, DOCTYPE and entities of its own, namespace
 * prefixes, unknown elements) answers undefined, so whatever a server's own parser makes of the
 * body, it can only see the keys read here. Undefined too for no or more than
 * {@link MAX_DELETE_OBJECTS} objects.
 */
export function parseDeleteObjects(xml: string): DeleteListEntry[] | undefined {
  let at = 0;
  if (xml.charCodeAt(0) === 0xfeff) at = 1;
  const declaration = XML_DECLARATION.exec(xml.slice(at, at + 256));
  if (declaration) at += declaration[0].length;
  const entries: DeleteListEntry[] = [];
  // The open elements, outermost first; fields of the current <Object>.
  const stack: string[] = [];
  let key: string | undefined;
  let versionId: string | undefined;
  let rootSeen = false;
  while (at < xml.length) {
    const lt = xml.indexOf('<', at);
    const text = xml.slice(at, lt === -1 ? xml.length : lt);
    const inner = stack[stack.length - 1];
    if (inner === undefined || inner === 'Delete' || inner === 'Object') {
      if (text.trim() !== '') return undefined;
    }
    if (lt === -1) break;
    const gt = xml.indexOf('>', lt);
    if (gt === -1) return undefined;
    const tag = xml.slice(lt + 1, gt);
    at = gt + 1;
    if (tag.startsWith('/')) {
      const name = tag.slice(1).trim();
      if (stack.pop() !== name) return undefined;
      if (name === 'Key' || name === 'VersionId') {
        const value = unescapeText(text);
        if (value === undefined) return undefined;
        if (name === 'Key') {
          if (key !== undefined) return undefined;
          key = value;
        } else {
          if (versionId !== undefined) return undefined;
          versionId = value;
        }
      } else if (name === 'Object') {
        if (key === undefined) return undefined;
        entries.push(versionId === undefined ? { key } : { key, versionId });
        if (entries.length > MAX_DELETE_OBJECTS) return undefined;
        key = undefined;
        versionId = undefined;
      }
      continue;
    }
    const opening = openingTag(tag);
    if (!opening) return undefined;
    const { name, attributes, selfClosing } = opening;
    if (stack.length === 0) {
      if (name !== 'Delete' || rootSeen) return undefined;
      rootSeen = true;
    } else if (inner === 'Delete') {
      if (name !== 'Object' && name !== 'Quiet') return undefined;
    } else if (inner === 'Object') {
      if (!OBJECT_FIELDS.has(name)) return undefined;
    } else {
      return undefined; // Key, VersionId and the rest hold text only
    }
    if (attributes !== '' && (name !== 'Delete' || attributes.includes('<'))) return undefined;
    if (selfClosing) {
      if (name === 'Object' || name === 'Key' || name === 'Delete') return undefined;
      continue;
    }
    stack.push(name);
  }
  if (!rootSeen || stack.length !== 0 || entries.length === 0) return undefined;
  return entries;
}
