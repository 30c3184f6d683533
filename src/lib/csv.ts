import { Transform, type TransformCallback } from 'node:stream';

/**
 * A streaming CSV record splitter: commas between fields, CRLF/LF/CR line ends, a leading BOM,
 * and quoting ("a ""quoted"" value", line breaks inside quotes kept). Records are numbered as a
 * spreadsheet numbers rows (the header is row 1). Fed chunk by chunk, so files never sit in memory.
 */
export class CsvParser {
  private row = 0;
  private fields: string[] = [];
  private field = '';
  private inQuotes = false;
  private afterCr = false;
  private started = false;
  private open = false;
  private pendingQuote = false;
  private readonly onRecord: (row: number, fields: string[]) => void;

  constructor(onRecord: (row: number, fields: string[]) => void) {
    this.onRecord = onRecord;
  }

  push(text: string): void {
    let i = 0;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) i = 1;
    }
    const n = text.length;
    while (i < n) {
      if (this.afterCr) {
        this.afterCr = false;
        if (text.charCodeAt(i) === 10) {
          i++;
          continue;
        }
      }
      if (this.inQuotes) {
        const q = text.indexOf('"', i);
        if (q === -1) {
          this.field += text.slice(i);
          return;
        }
        this.field += text.slice(i, q);
        if (q + 1 >= n) {
          this.inQuotes = false;
          this.pendingQuote = true;
          return;
        }
        if (text.charCodeAt(q + 1) === 34) {
          this.field += '"';
          i = q + 2;
        } else {
          this.inQuotes = false;
          i = q + 1;
        }
        continue;
      }
      if (this.pendingQuote) {
        this.pendingQuote = false;
        if (text.charCodeAt(i) === 34) {
          this.field += '"';
          this.inQuotes = true;
          i++;
          continue;
        }
      }
      special.lastIndex = i;
      const m = special.exec(text);
      const end = m ? m.index : n;
      if (end > i) {
        this.field += text.slice(i, end);
        this.open = true;
      }
      if (!m) return;
      const c = text.charCodeAt(end);
      i = end + 1;
      if (c === 34) {
        this.inQuotes = true;
        this.open = true;
      } else if (c === 44) {
        this.fields.push(this.field);
        this.field = '';
        this.open = true;
      } else {
        this.emit();
        if (c === 13) this.afterCr = true;
      }
    }
  }

  /** Flushes the last record when the file does not end with a line break. */
  end(): void {
    this.pendingQuote = false;
    if (this.open || this.inQuotes || this.field !== '' || this.fields.length > 0) this.emit();
  }

  private emit(): void {
    this.row++;
    this.fields.push(this.field);
    const fields = this.fields;
    this.fields = [];
    this.field = '';
    this.open = false;
    this.inQuotes = false;
    this.onRecord(this.row, fields);
  }
}
const special = /[\r\n,"]/g;

/** A value made safe for a COPY text row: backslashes doubled (tabs and line ends are the caller's). */
export const copyText = (v: string): string => v.replaceAll('\\', '\\\\');

/**
 * CSV text in, COPY text rows out, streaming: each record (row number, fields) is turned into
 * COPY rows by `toCopy` (an empty string for none). A throw from `toCopy` (a file refused whole)
 * fails the stream. `afterChunk` runs after each chunk's rows are passed on (progress reports).
 */
export class CsvToCopy extends Transform {
  private readonly parser: CsvParser;
  private out = '';
  private readonly afterChunk: () => void;

  constructor(toCopy: (row: number, fields: string[]) => string, afterChunk: () => void = () => undefined) {
    super({ decodeStrings: false, readableHighWaterMark: 1 << 16 });
    this.parser = new CsvParser((row, fields) => {
      this.out += toCopy(row, fields);
    });
    this.afterChunk = afterChunk;
  }

  override _transform(chunk: string | Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.step(() => this.parser.push(typeof chunk === 'string' ? chunk : chunk.toString('utf8')), done);
  }

  override _flush(done: TransformCallback): void {
    this.step(() => this.parser.end(), done);
  }

  private step(parse: () => void, done: TransformCallback): void {
    try {
      parse();
    } catch (err) {
      done(err as Error);
      return;
    }
    if (this.out) {
      this.push(this.out);
      this.out = '';
    }
    this.afterChunk();
    done();
  }
}
