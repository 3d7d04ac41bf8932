/**
 * RFC 4180 CSV: fields separated by commas, records by CRLF or LF, a field may be quoted ("…",
 * with "" for a quote inside, and line breaks). Returns each record with the line it starts on.
 */
export function parseCsv(text: string): { line: number; fields: string[] }[] {
  const records: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let recordLine = 1;
  let started = false;
  const endField = () => {
    fields.push(field);
    field = '';
  };
  const endRecord = () => {
    endField();
    if (!(fields.length === 1 && fields[0] === '')) records.push({ line: recordLine, fields });
    fields = [];
    started = false;
  };
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (!started) {
      started = true;
      recordLine = line;
    }
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else {
        if (char === '\n') line++;
        field += char;
      }
    } else if (char === '"' && field === '') quoted = true;
    else if (char === ',') endField();
    else if (char === '\n' || char === '\r') {
      if (char === '\r' && text[i + 1] === '\n') i++;
      endRecord();
      line++;
    } else field += char;
  }
  if (started) endRecord();
  return records;
}

/** A column of a CSV report: its header, its cell, and how a text cell is written. */
export interface CsvColumn<Row> {
  name: string;
  value: (row: Row) => string | number | null;
  /**
   * `id`: quoted, exact (join keys); `free`: quoted, and a leading = + - @ (which a spreadsheet
   * would run as a formula) prefixed with '. Other strings (dates, months, codes) are quoted too.
   */
  text?: 'id' | 'free';
}

/** Quote a text cell; free text is formula-neutralised, ids are left exact. */
export function csvText(value: string, freeText: boolean): string {
  const safe = freeText && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${safe.replaceAll('"', '""')}"`;
}

/** RFC 4180: a header row, then one record per row, CRLF line ends, numbers as they are. */
export function toCsv<Row>(columns: readonly CsvColumn<Row>[], rows: readonly Row[]): string {
  const cell = (column: CsvColumn<Row>, row: Row) => {
    const value = column.value(row);
    if (value === null) return '';
    if (typeof value === 'number') return String(value);
    return csvText(value, column.text === 'free');
  };
  return [
    columns.map((column) => column.name).join(','),
    ...rows.map((row) => columns.map((c) => cell(c, row)).join(',')),
  ]
    .join('\r\n')
    .concat('\r\n');
}
