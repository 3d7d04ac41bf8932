/**
 * Capacity units per operation, two ways: as DynamoDB Local reports them (ConsumedCapacity), and
 * computed from the item sizes with DynamoDB's published rules, which is what AWS bills. Local's
 * figures are approximations (e.g. a missing item in a strongly consistent BatchGet costs 1 RCU on
 * AWS, and Local doubles index writes of a transaction), so the computed figures are the reference.
 */
import type { AttributeValue, ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import { type IndexDefinition, tableDefinition } from '../lambdas/store/table-definition.ts';
import type { Item, ProbedCall, TouchedItem } from './probe.ts';

const KB = 1024;
const READ_UNIT = 4 * KB;
const READ_COMMANDS = new Set(['GetItemCommand', 'BatchGetItemCommand', 'QueryCommand', 'ScanCommand']);

export interface ItemCost {
  op: TouchedItem['op'];
  /** The key's entity prefix (IDEM, MEMBER, ORDER, AGG…): which item this is. */
  item: string;
  /** Larger of the item's size before and after, in bytes (DynamoDB's item size rules). */
  bytes: number;
  readUnits: number;
  writeUnits: number;
  indexWriteUnits: number;
}

export interface OperationCapacity {
  requests: string[];
  itemsPerTransaction: number | null;
  reported: { readUnits: number; writeUnits: number };
  computed: { readUnits: number; writeUnits: number; tableWriteUnits: number; indexWriteUnits: number };
  items: ItemCost[];
  failedConditions: string[];
}

export function capacityOf(calls: ProbedCall[]): OperationCapacity {
  const reported = { readUnits: 0, writeUnits: 0 };
  const items: ItemCost[] = [];
  for (const call of calls) {
    const isRead = READ_COMMANDS.has(call.command);
    for (const consumed of call.consumed) addReported(reported, consumed, isRead);
    const transactional = call.command.startsWith('Transact');
    for (const touched of call.touched) items.push(costOf(touched, transactional));
  }
  const tableWriteUnits = sum(items.map((item) => item.writeUnits));
  const indexWriteUnits = sum(items.map((item) => item.indexWriteUnits));
  const transaction = calls.find((call) => call.command === 'TransactWriteItemsCommand');
  return {
    requests: calls.map((call) => call.command.replace(/Command$/, '')),
    itemsPerTransaction: transaction ? transaction.touched.length : null,
    reported,
    computed: {
      readUnits: sum(items.map((item) => item.readUnits)),
      writeUnits: tableWriteUnits + indexWriteUnits,
      tableWriteUnits,
      indexWriteUnits,
    },
    items,
    failedConditions: calls.filter((call) => call.error).map((call) => `${call.command}: ${call.error}`),
  };
}

/**
 * What a run of many calls cost, without the before/after reads of the full probe (so the calls can
 * be timed): reads computed from the items they returned, reads and writes as DynamoDB Local
 * reports them, and the number of requests by type (a Query is named by its index).
 */
export interface CallsCapacity {
  requests: Record<string, number>;
  /** Items the reads returned, by request type (index entries for a Query of an index). */
  itemsReturned: Record<string, number>;
  computed: { readUnits: number };
  reported: { readUnits: number; writeUnits: number };
}

export function callsCapacityOf(calls: ProbedCall[]): CallsCapacity {
  const requests: Record<string, number> = {};
  const itemsReturned: Record<string, number> = {};
  const reported = { readUnits: 0, writeUnits: 0 };
  let readUnits = 0;
  for (const call of calls) {
    const type = requestType(call);
    requests[type] = (requests[type] ?? 0) + 1;
    if (READ_COMMANDS.has(call.command))
      itemsReturned[type] = (itemsReturned[type] ?? 0) + call.returned.length;
    for (const consumed of call.consumed) addReported(reported, consumed, READ_COMMANDS.has(call.command));
    readUnits += readUnitsOf(call);
  }
  return {
    requests,
    itemsReturned,
    computed: { readUnits },
    reported: { readUnits: round2(reported.readUnits), writeUnits: round2(reported.writeUnits) },
  };
}

/** `Query gsi4`, `Query table`, `BatchGetItem`…: a Query by what it reads, anything else by its name. */
export function requestType(call: ProbedCall): string {
  const name = call.command.replace(/Command$/, '');
  if (name !== 'Query' && name !== 'Scan') return name;
  return `${name} ${typeof call.input.IndexName === 'string' ? call.input.IndexName : 'table'}`;
}

/**
 * A read's units from what it returned. Query and Scan: the returned items' (index entries') sizes
 * summed, rounded up to 4 KB, at least one unit. GetItem and BatchGetItem: each item rounded up on
 * its own, a requested item that was not found still costs one unit. Eventually consistent reads
 * (every index read) cost half. Writes read nothing here (no condition reads are charged as reads).
 */
function readUnitsOf(call: ProbedCall): number {
  const input = call.input;
  switch (call.command) {
    case 'QueryCommand':
    case 'ScanCommand': {
      const units = Math.max(1, Math.ceil(sum(call.returned.map(sizeOf)) / READ_UNIT));
      return input.ConsistentRead === true ? units : units / 2;
    }
    case 'GetItemCommand':
    case 'BatchGetItemCommand': {
      const units =
        sum(call.returned.map((item) => Math.max(1, Math.ceil(sizeOf(item) / READ_UNIT)))) +
        Math.max(0, call.touched.length - call.returned.length);
      const consistent = call.touched.every((touched) => touched.consistentRead);
      return consistent ? units : units / 2;
    }
    default:
      return 0;
  }
}

const round2 = (value: number) => Math.round(value * 100) / 100;

function addReported(total: OperationCapacity['reported'], consumed: ConsumedCapacity, isRead: boolean) {
  const read = consumed.ReadCapacityUnits;
  const write = consumed.WriteCapacityUnits;
  if (read !== undefined || write !== undefined) {
    total.readUnits += read ?? 0;
    total.writeUnits += write ?? 0;
  } else if (isRead) total.readUnits += consumed.CapacityUnits ?? 0;
  else total.writeUnits += consumed.CapacityUnits ?? 0;
}

/**
 * Reads: 1 RCU per 4 KB (strongly consistent; half eventually), a missing item still costs the
 * minimum. Writes: 1 WCU per 1 KB of the larger of old and new item (a failed condition too), ×2
 * inside a transaction (prepare + commit). Index writes: 1 WCU per 1 KB of the projected entry, at
 * the standard rate (AWS documents the ×2 for table items only).
 */
function costOf(touched: TouchedItem, transactional: boolean): ItemCost {
  const bytes = Math.max(sizeOf(touched.before), sizeOf(touched.after));
  const base = {
    op: touched.op,
    item: entityOf(touched.key),
    bytes,
    readUnits: 0,
    writeUnits: 0,
    indexWriteUnits: 0,
  };
  if (touched.op === 'Get') {
    const units = Math.max(1, Math.ceil(bytes / READ_UNIT));
    return { ...base, readUnits: touched.consistentRead ? units : units / 2 };
  }
  const indexes = tableDefinition.globalSecondaryIndexes as IndexDefinition[];
  return {
    ...base,
    writeUnits: (transactional ? 2 : 1) * Math.max(1, Math.ceil(bytes / KB)),
    indexWriteUnits: sum(indexes.map((index) => indexWriteUnits(index, touched.before, touched.after))),
  };
}

/** A new or changed index entry is one write of its size; an entry that moved also deletes the old one. */
function indexWriteUnits(index: IndexDefinition, before: Item | undefined, after: Item | undefined): number {
  const entryBefore = before && indexEntry(index, before);
  const entryAfter = after && indexEntry(index, after);
  if (!entryBefore && !entryAfter) return 0;
  if (entryBefore && entryAfter && JSON.stringify(entryBefore) === JSON.stringify(entryAfter)) return 0;
  const moved =
    entryBefore &&
    entryAfter &&
    JSON.stringify(keysOf(index, entryBefore)) !== JSON.stringify(keysOf(index, entryAfter));
  const write = entryAfter ? Math.max(1, Math.ceil(sizeOf(entryAfter) / KB)) : 1;
  return write + (moved ? 1 : 0);
}

const keysOf = (index: IndexDefinition, entry: Item) => [entry[index.partitionKey], entry[index.sortKey]];

/** The item as the index stores it (table keys, index keys, projected attributes); none if unindexed. */
function indexEntry(index: IndexDefinition, item: Item): Item | undefined {
  if (!item[index.partitionKey] || !item[index.sortKey]) return undefined;
  if (index.projection === 'ALL') return item;
  const kept = ['pk', 'sk', index.partitionKey, index.sortKey];
  if (index.projection !== 'KEYS_ONLY') kept.push(...index.projection.include);
  return Object.fromEntries(kept.filter((name) => item[name]).map((name) => [name, item[name]])) as Item;
}

const entityOf = (key: Item) => String(key.pk?.S ?? '?').split('#')[0] as string;

/** DynamoDB's item size: attribute names plus values, per the Developer Guide's rules. */
export function sizeOf(item: Item | undefined): number {
  if (!item) return 0;
  return sum(Object.entries(item).map(([name, value]) => utf8(name) + valueSize(value)));
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return sum(value.SS.map(utf8));
  if (value.NS !== undefined) return sum(value.NS.map(numberSize));
  if (value.BS !== undefined) return sum(value.BS.map((bytes) => bytes.byteLength));
  // Lists and maps: 3 bytes, plus 1 byte per element (and the names, for maps).
  if (value.L !== undefined) return 3 + sum(value.L.map((element) => 1 + valueSize(element)));
  if (value.M !== undefined) {
    return 3 + sum(Object.entries(value.M).map(([name, element]) => utf8(name) + 1 + valueSize(element)));
  }
  throw new Error(`unknown attribute value ${JSON.stringify(value)}`);
}

/** 1 byte per 2 significant digits, plus 1 (leading and trailing zeros are not stored). */
function numberSize(text: string): number {
  const digits = text.replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');
const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
