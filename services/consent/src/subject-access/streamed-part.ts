// Reading a participant's part while it arrives. A part is one JSON object; records' holds
// the patient's whole record in one list (`notes`: 10,000 notes are ~6 MB). Rather than wait
// for the last byte and parse it all, the splitter hands each item of that list on as its
// JSON text the moment the item is complete (consent seals and stores chunks of them while
// records is still sending), and keeps the rest of the object — everything but the list's
// items — to parse at the end. It tracks only what JSON needs to find an item's end (strings,
// escapes, nesting); the items' text is checked where it is used (each chunk is parsed once
// before it is sealed), and the rest by JSON.parse here.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_CURLY = 0x7b;
const CLOSE_CURLY = 0x7d;
const OPEN_SQUARE = 0x5b;
const CLOSE_SQUARE = 0x5d;
const isSpace = (ch: number) => ch === 0x20 || ch === 0x0a || ch === 0x0d || ch === 0x09;

export class JsonListSplitter {
  /** The object outside the list's items (the list itself as `[]`). */
  private readonly outside: string[] = [];
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Inside the list (between its `[` and `]`). */
  private inList = false;
  /** Text of the item being read that arrived with earlier pieces. */
  private itemCarry = '';
  private inItem = false;
  private itemDepth = 0;
  private ended = false;
  /** Items handed on so far. */
  items = 0;

  constructor(private readonly listKey: string) {}

  /** Feed the next piece of text; the items it completed, in order. */
  push(text: string): string[] {
    const done: string[] = [];
    let segStart = 0; // where the current run of outside text, or the current item, starts
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i);
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (ch === BACKSLASH) this.escaped = true;
        else if (ch === QUOTE) this.inString = false;
        continue;
      }
      if (this.ended) {
        if (isSpace(ch)) continue;
        throw new Error('text after the end of the part');
      }
      if (this.inList && !this.inItem) {
        if (isSpace(ch) || ch === COMMA) continue;
        if (ch === CLOSE_SQUARE) {
          this.endList(i);
          segStart = i;
          continue;
        }
        this.inItem = true;
        this.itemDepth = this.depth;
        this.itemCarry = '';
        segStart = i;
      }
      if (this.inItem && this.depth === this.itemDepth && (ch === COMMA || ch === CLOSE_SQUARE)) {
        // A scalar item ends here (an object or array item ends at its own closing bracket).
        done.push(this.itemCarry + text.slice(segStart, i));
        this.inItem = false;
        if (ch === CLOSE_SQUARE) {
          this.endList(i);
          segStart = i;
        }
        continue;
      }
      if (ch === QUOTE) this.inString = true;
      else if (ch === OPEN_CURLY || ch === OPEN_SQUARE) {
        if (!this.inList && this.depth === 1 && ch === OPEN_SQUARE && this.keyBefore(text, segStart, i) === this.listKey) {
          this.outside.push(text.slice(segStart, i + 1));
          this.inList = true;
          segStart = i + 1;
        }
        this.depth++;
      } else if (ch === CLOSE_CURLY || ch === CLOSE_SQUARE) {
        this.depth--;
        if (this.depth < 0) throw new Error('unbalanced JSON');
        if (this.inItem && this.depth === this.itemDepth) {
          done.push(this.itemCarry + text.slice(segStart, i + 1));
          this.inItem = false;
        }
        if (this.depth === 0) this.ended = true;
      }
    }
    if (this.inItem) this.itemCarry += text.slice(segStart);
    else if (!this.inList) this.outside.push(text.slice(segStart));
    this.items += done.length;
    return done;
  }

  private endList(i: number): void {
    this.inList = false;
    this.depth--;
    if (this.depth < 1) throw new Error(`unbalanced JSON at ${i}`);
  }

  /** The object without the list's items; throws if the text was not one whole JSON object. */
  end(): Record<string, unknown> {
    if (!this.ended || this.inString || this.inList) throw new Error('the part ended early');
    const value = JSON.parse(this.outside.join('')) as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('the part is not an object');
    return value as Record<string, unknown>;
  }

  /** The key whose value starts at `i` (the text outside the list so far, ending in `"key":`). */
  private keyBefore(text: string, segStart: number, i: number): string | undefined {
    const tail = (this.outside.join('').slice(-200) + text.slice(segStart, i)).trimEnd();
    const m = /"((?:[^"\\]|\\.)*)"\s*:$/.exec(tail);
    return m ? (JSON.parse(`"${m[1]}"`) as string) : undefined;
  }
}
