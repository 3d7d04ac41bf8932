/**
 * Instruments a store's DynamoDB client to see exactly what our code sends: each call's wire input
 * (marshalled), the ConsumedCapacity DynamoDB reports (our code never asks for it, so the probe
 * does), the items a read returned, and (given a `reader`) every item the call touches as it was
 * before and after (read raw with another client), which is what capacity is charged on. Without a
 * reader the probe sends nothing of its own, so the calls it watches can be timed.
 */
import {
  type AttributeValue,
  type ConsumedCapacity,
  type DynamoDBClient,
  GetItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Store } from '../lambdas/store/client.ts';

export type Item = Record<string, AttributeValue>;
type Input = Record<string, unknown>;

export interface TouchedItem {
  op: 'Get' | 'Put' | 'Update' | 'Delete' | 'ConditionCheck';
  tableName: string;
  key: Item;
  consistentRead: boolean;
  before?: Item;
  after?: Item;
}

export interface ProbedCall {
  /** e.g. `TransactWriteItemsCommand`. */
  command: string;
  /** What went on the wire (AttributeValues, after the document client's marshalling). */
  input: Input;
  consumed: ConsumedCapacity[];
  touched: TouchedItem[];
  /** The items a read (Get, BatchGet, Query, Scan) returned, marshalled again: what reads are charged on. */
  returned: Item[];
  /**
   * From the probe's first middleware to the answer: the call's round trip with its marshalling,
   * and the probe's own before/after reads when it has a reader.
   */
  ms: number;
  /** Name of the error the call ended with (a failed condition still costs capacity). */
  error?: string;
}

export interface Probe {
  calls: ProbedCall[];
  detach: () => void;
}

const CAPACITY = 'benchProbeCapacity';
const ITEMS = 'benchProbeItems';

export function attachProbe(store: Store, reader?: DynamoDBClient): Probe {
  const calls: ProbedCall[] = [];
  const byContext = new WeakMap<object, ProbedCall>();
  const stack = store.db.middlewareStack;

  // initialize: before serialization, the only step where the request can still be changed.
  stack.add(
    (next, context) => async (args) => {
      const call: ProbedCall = {
        command: context.commandName ?? '?',
        input: {},
        consumed: [],
        touched: [],
        returned: [],
        ms: 0,
      };
      byContext.set(context, call);
      calls.push(call);
      (args.input as Input).ReturnConsumedCapacity = 'INDEXES';
      const started = performance.now();
      let result: Awaited<ReturnType<typeof next>>;
      try {
        result = await next(args);
      } catch (error) {
        call.ms = performance.now() - started;
        call.error = (error as Error).name;
        throw error;
      }
      call.ms = performance.now() - started;
      const output = result.output as ReadOutput;
      const reported = output.ConsumedCapacity;
      call.consumed = reported === undefined ? [] : [reported].flat();
      call.returned = returnedItems(output).map((item) => marshall(item, { removeUndefinedValues: true }));
      return result;
    },
    { step: 'initialize', name: CAPACITY },
  );

  // build: the input is marshalled by now, so it is what DynamoDB receives.
  stack.add(
    (next, context) => async (args) => {
      const call = byContext.get(context);
      if (!call) return next(args);
      call.input = structuredClone(args.input as Input);
      call.touched = touchedItems(call.command, call.input);
      if (!reader) return next(args);
      for (const item of call.touched) item.before = await readRaw(reader, item);
      try {
        return await next(args);
      } finally {
        for (const item of call.touched) item.after = await readRaw(reader, item);
      }
    },
    { step: 'build', name: ITEMS },
  );

  return {
    calls,
    detach: () => {
      stack.remove(CAPACITY);
      stack.remove(ITEMS);
    },
  };
}

/** A read's output as the document client hands it back (unmarshalled). */
interface ReadOutput {
  ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[];
  Item?: Record<string, unknown>;
  Items?: Record<string, unknown>[];
  Responses?: Record<string, Record<string, unknown>[]> | unknown[];
}

function returnedItems(output: ReadOutput): Record<string, unknown>[] {
  if (output.Item) return [output.Item];
  if (output.Items) return output.Items;
  // BatchGetItem answers by table (TransactWriteItems has no Responses; TransactGetItems is unused).
  if (output.Responses && !Array.isArray(output.Responses)) return Object.values(output.Responses).flat();
  return [];
}

async function readRaw(reader: DynamoDBClient, item: TouchedItem): Promise<Item | undefined> {
  const { Item } = await reader.send(
    new GetItemCommand({ TableName: item.tableName, Key: item.key, ConsistentRead: true }),
  );
  return Item;
}

const keyOf = (item: Item): Item => ({ pk: item.pk as AttributeValue, sk: item.sk as AttributeValue });

/** The items a call reads or writes, in request order (transaction items keep their index). */
function touchedItems(command: string, input: Input): TouchedItem[] {
  const tableName = String(input.TableName ?? '');
  const single = (op: TouchedItem['op']): TouchedItem[] => [
    {
      op,
      tableName,
      key: input.Key ? (input.Key as Item) : keyOf(input.Item as Item),
      consistentRead: input.ConsistentRead === true,
    },
  ];
  switch (command) {
    case 'GetItemCommand':
      return single('Get');
    case 'PutItemCommand':
      return single('Put');
    case 'UpdateItemCommand':
      return single('Update');
    case 'DeleteItemCommand':
      return single('Delete');
    case 'BatchGetItemCommand':
      return Object.entries(
        input.RequestItems as Record<string, { Keys: Item[]; ConsistentRead?: boolean }>,
      ).flatMap(([table, request]) =>
        request.Keys.map((key) => ({
          op: 'Get' as const,
          tableName: table,
          key,
          consistentRead: request.ConsistentRead === true,
        })),
      );
    case 'QueryCommand':
    case 'ScanCommand':
      return []; // no item by key: charged on what the read returned (ProbedCall.returned)
    case 'TransactWriteItemsCommand':
      return (input.TransactItems as Record<string, Input>[]).map((entry) => {
        const [op, request] = Object.entries(entry)[0] as [TouchedItem['op'], Input];
        return {
          op,
          tableName: String(request.TableName),
          key: request.Key ? (request.Key as Item) : keyOf(request.Item as Item),
          consistentRead: true,
        };
      });
    default:
      throw new Error(`the capacity probe does not know ${command}; teach touchedItems about it`);
  }
}
