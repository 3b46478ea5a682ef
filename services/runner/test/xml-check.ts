/** An element of a parsed XML document. */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_:][A-Za-z0-9_:.-]*/;
const ENTITY = /^&(?:lt|gt|amp|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/;

function checkText(text: string, where: number): string {
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '<') throw new Error(`'<' in character data at ${where + i}`);
    if (text[i] === '&' && !ENTITY.test(text.slice(i))) throw new Error(`bad entity at ${where + i}`);
  }
  return text;
}

/**
 * A strict parser for the XML subset SVG files use (prolog, elements, attributes, text, comments,
 * CDATA). Throws with a position on anything not well-formed: unbalanced or mismatched tags,
 * unquoted or duplicate attributes, raw `<` or stray `&` in text, content after the root.
 */
export function parseXml(xml: string): XmlElement {
  let i = 0;
  const skipWs = (): void => {
    while (i < xml.length && /\s/.test(xml[i]!)) i++;
  };
  const skipMisc = (): void => {
    for (;;) {
      skipWs();
      if (xml.startsWith('<?', i)) {
        const end = xml.indexOf('?>', i);
        if (end < 0) throw new Error(`unterminated processing instruction at ${i}`);
        i = end + 2;
      } else if (xml.startsWith('<!--', i)) {
        const end = xml.indexOf('-->', i);
        if (end < 0) throw new Error(`unterminated comment at ${i}`);
        i = end + 3;
      } else return;
    }
  };
  const parseElement = (): XmlElement => {
    if (xml[i] !== '<') throw new Error(`expected '<' at ${i}`);
    i++;
    const m = NAME.exec(xml.slice(i));
    if (!m) throw new Error(`bad element name at ${i}`);
    const el: XmlElement = { name: m[0], attributes: {}, children: [], text: '' };
    i += m[0].length;
    for (;;) {
      const before = i;
      skipWs();
      if (xml.startsWith('/>', i)) {
        i += 2;
        return el;
      }
      if (xml[i] === '>') {
        i++;
        break;
      }
      if (i === before) throw new Error(`expected whitespace before attribute at ${i}`);
      const a = NAME.exec(xml.slice(i));
      if (!a) throw new Error(`bad attribute name at ${i}`);
      i += a[0].length;
      skipWs();
      if (xml[i] !== '=') throw new Error(`expected '=' after attribute ${a[0]} at ${i}`);
      i++;
      skipWs();
      const q = xml[i];
      if (q !== '"' && q !== "'") throw new Error(`unquoted attribute ${a[0]} at ${i}`);
      const end = xml.indexOf(q, i + 1);
      if (end < 0) throw new Error(`unterminated attribute ${a[0]} at ${i}`);
      if (Object.hasOwn(el.attributes, a[0])) throw new Error(`duplicate attribute ${a[0]} at ${i}`);
      el.attributes[a[0]] = checkText(xml.slice(i + 1, end), i + 1);
      i = end + 1;
    }
    for (;;) {
      const lt = xml.indexOf('<', i);
      if (lt < 0) throw new Error(`element <${el.name}> is not closed`);
      el.text += checkText(xml.slice(i, lt), i);
      i = lt;
      if (xml.startsWith('</', i)) {
        i += 2;
        const c = NAME.exec(xml.slice(i));
        if (!c || c[0] !== el.name) throw new Error(`</${c?.[0] ?? '?'}> closes <${el.name}> at ${i}`);
        i += c[0].length;
        skipWs();
        if (xml[i] !== '>') throw new Error(`expected '>' at ${i}`);
        i++;
        return el;
      }
      if (xml.startsWith('<!--', i)) {
        const end = xml.indexOf('-->', i);
        if (end < 0) throw new Error(`unterminated comment at ${i}`);
        i = end + 3;
      } else if (xml.startsWith('<![CDATA[', i)) {
        const end = xml.indexOf(']]>', i);
        if (end < 0) throw new Error(`unterminated CDATA at ${i}`);
        el.text += xml.slice(i + 9, end);
        i = end + 3;
      } else {
        el.children.push(parseElement());
      }
    }
  };
  skipMisc();
  const root = parseElement();
  skipMisc();
  if (i !== xml.length) throw new Error(`content after the root element at ${i}`);
  return root;
}

/** Every element of the tree, depth first. */
export function allElements(root: XmlElement): XmlElement[] {
  return [root, ...root.children.flatMap(allElements)];
}
